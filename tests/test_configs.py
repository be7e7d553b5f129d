"""Every benchmark config builds, and each method's configs carry its authors' protocol."""

import pytest
from mmengine.config import Config

from clipseg.models.text import parse_classes
from .conftest import REPO, TINY_RN, TINY_VIT

CONFIGS = REPO / 'configs'
LISTS = CONFIGS / '_base_' / 'datasets' / 'class_names'
DATASETS = ['voc21', 'voc20', 'context60', 'context59', 'coco_object', 'coco_stuff171',
            'cityscapes', 'ade20k150']


def load(name):
    (path,) = [p for p in CONFIGS.rglob(f'{name}.py') if '_base_' not in p.parts]
    return Config.fromfile(str(path))


def protocol(name):
    """The settings that decide a benchmark number, read from the resolved config."""
    cfg = load(name)
    m = cfg.model
    test = m.get('test_cfg', {})
    resize = [s for s in cfg.test_pipeline if s['type'] == 'Resize'][0]['scale']
    names = parse_classes(m['class_names'], m.get('allow_shared_names', False))
    return dict(mode=test.get('mode'), crop=tuple(test.get('crop_size', ())),
                stride=tuple(test.get('stride', ())), scale=tuple(resize),
                logit=test.get('logit_scale'), prob=test.get('prob_thd', 0.0),
                area=test.get('area_thd'), pamr=test.get('pamr_steps', 0),
                renorm=test.get('renormalize', False), precision=test.get('precision', 'fp32'),
                pos=m.get('backbone_cfg', {}).get('pos_resize', 'exact'),
                pad=m.get('backbone_cfg', {}).get('pad', 'corner'),
                templates=m.get('templates'), classes=len(names),
                queries=sum(len(n) for n in names), names=names,
                mean=(m.get('data_preprocessor') or {}).get('mean'))


def test_naclip_protocol():
    for ds in DATASETS:
        mode, scale = ('whole', 336) if ds in ('voc21', 'voc20') else ('slide', 336)
        scale = 560 if ds == 'cityscapes' else scale
        p = protocol(f'naclip_vit-b16_openai_{mode}{scale}_{ds}')
        assert (p['mode'], p['scale'], p['logit'], p['area']) == (mode, (2048, scale), 40.0, None), ds
        assert p['prob'] == (0.1 if ds in ('voc21', 'context60', 'coco_object') else 0.0), ds
        assert (p['pamr'], p['renorm'], p['pos'], p['pad']) == (10, True, 'dino', 'drop'), ds
        assert p['precision'] == 'fp16_cuda', ds   # the authors' fp16 GPU runs
    assert protocol('naclip_vit-b16_openai_slide336_coco_stuff171')['scale'] == (2048, 336)


def test_clearclip_protocol():
    prob = {'voc21': 0.5, 'context60': 0.15, 'coco_object': 0.4}
    for ds in DATASETS:
        p = protocol(f'clearclip_vit-b16_openai_slide448_{ds}')
        crop = (224, 224) if ds == 'cityscapes' else (448, 448)
        assert (p['scale'], p['crop'], p['logit'], p['area']) == ((2048, 448), crop, 50.0, None), ds
        assert p['stride'] == (224, 224) and p['prob'] == prob.get(ds, 0.0), ds
        assert p['precision'] == 'fp16_cuda', ds
        assert (p['pos'], p['pad']) == ('dino', 'even'), ds
    voc = protocol('clearclip_vit-b16_openai_slide448_voc21')
    assert voc['classes'] == voc['queries'] == 21 and voc['names'][0] == ['background']


def test_sclip_protocol_and_the_shared_class_lists():
    voc = protocol('sclip_vit-b16_openai_slide336_voc21')
    assert (voc['logit'], voc['prob'], voc['area'], voc['scale']) == (65.0, 0.1, 0.1, (2048, 336))
    assert (voc['classes'], voc['queries']) == (21, 56) and voc['names'][1] == ['aeroplane']
    assert (voc['pos'], voc['pad'], voc['mode'], voc['crop']) == ('dino', 'drop', 'slide', (224, 224))
    ctx = protocol('sclip_vit-b16_openai_slide336_context60')
    assert (ctx['classes'], ctx['queries'], ctx['logit'], ctx['prob']) == (60, 60, 50.0, 0.1)
    obj = protocol('sclip_vit-b16_openai_slide336_coco_object')
    assert obj['classes'] == 81 and 'body' in obj['names'][1] and 'background' not in obj['names'][0]
    assert protocol('sclip_vit-b16_openai_slide448_coco_stuff171')['scale'] == (2048, 448)
    assert protocol('sclip_vit-b16_openai_slide560_cityscapes')['scale'] == (2048, 560)


def test_maskclip_protocol():
    for arch in ('vit-b16', 'rn50'):
        for name, scale in [('whole512_voc20', (2048, 512)), ('whole520_context59', (520, 520)),
                            ('whole512_coco_stuff171', (2048, 512)),
                            ('whole1024_cityscapes', (2048, 1024)), ('whole512_ade20k150', (2048, 512))]:
            p = protocol(f'maskclip_{arch}_openai_{name}')
            assert (p['mode'], p['scale'], p['prob'], p['area']) == ('whole', scale, 0.0, None), name
            assert p['templates'] == 'maskclip' and p['mean'] == [123.675, 116.28, 103.53], name
    voc = protocol('maskclip_vit-b16_openai_whole512_voc20')
    assert voc['names'][0] == ['airplane'] and voc['names'][-1] == ['tv monitor']
    assert (voc['pos'], voc['pad']) == ('exact', 'corner_stretch')


def test_dinoiser_protocol():
    for ds in DATASETS:
        cfg = load(f'dinoiser_vit-b16_laion2b_slide448_{ds}')
        p = protocol(f'dinoiser_vit-b16_laion2b_slide448_{ds}')
        assert (p['scale'], p['crop'], p['stride']) == ((2048, 448), (448, 448), (224, 224)), ds
        assert cfg.model.apply_background == (ds in ('voc21', 'coco_object')), ds
        assert p['classes'] == p['queries'] and cfg.model.clip.pretrained == 'laion2b_s34b_b88k'
    assert protocol('dinoiser_vit-b16_laion2b_slide448_voc21')['names'][0] == ['background']


def test_scclip_protocol():
    """SuleBai/SC-CLIP configs/cfg_*.py on SCLIP's harness."""
    thresholds = {'voc21': (50.0, 0.15, 0.1), 'context60': (40.0, 0.15, None),
                  'coco_object': (55.0, 0.35, None)}
    for ds in DATASETS:
        scale = 560 if ds == 'cityscapes' else 336
        p = protocol(f'scclip_vit-b16_openai_slide{scale}_{ds}')
        assert (p['mode'], p['crop'], p['stride'], p['scale']) == (
            'slide', (224, 224), (112, 112), (2048, scale)), ds
        assert (p['logit'], p['prob'], p['area']) == thresholds.get(ds, (40.0, 0.0, None)), ds
        assert (p['pos'], p['pad'], p['pamr'], p['precision']) == ('dino', 'drop', 0, 'fp16_cuda'), ds
        assert p['names'] == protocol(next(
            f.stem for f in (CONFIGS / 'sclip').glob(f'sclip_*_{ds}.py')))['names'], ds
        assert load(f'scclip_vit-b16_openai_slide{scale}_{ds}').model.attention.type == 'SCCLIPAttention'


def test_rfclip_protocol():
    """liblacklucy/RF-CLIP @c2b333e configs/cfg_*.py: (mode, short side, prob_thd, w, a, h, global)."""
    rows = {'voc21': ('whole', 336, 0.1, 0.1, 0.03, 0.10, 'window'),
            'context60': ('slide', 336, 0.1, 0.25, 0.04, 0.09, 'image'),
            'coco_object': ('slide', 336, 0.1, 0.25, 0.01, 0.10, 'image'),
            'voc20': ('slide', 336, 0.0, 0.4, 0.02, 0.10, 'image'),
            'context59': ('slide', 336, 0.0, 0.25, 0.04, 0.09, 'image'),
            'coco_stuff171': ('whole', 336, 0.0, 0.2, 0.02, 0.02, 'window'),
            'cityscapes': ('slide', 560, 0.0, 0.1, 0.03, 0.14, 'window'),
            'ade20k150': ('slide', 336, 0.0, 0.3, 0.05, 0.06, 'image')}
    for ds, (mode, scale, prob, w, a, h, glob) in rows.items():
        name = f'rfclip_vit-b16_openai_{mode}{scale}_{ds}'
        p, m = protocol(name), load(name).model
        assert (p['mode'], p['scale'], p['prob'], p['logit'], p['area']) == (
            mode, (2048, scale), prob, 40.0, None), ds
        assert (p['pos'], p['pad'], p['pamr'], p['precision']) == ('dino', 'drop', 0, 'fp16_cuda'), ds
        head = m.decode_head
        assert (head.global_weight, head.nudge_weight, head.cluster_distance, head.global_from) == (
            w, a, h, glob), ds
        assert m.attention == 'rfclip' and m.backbone_cfg.with_global, ds


def test_resclip_protocol():
    """yvhangyang/ResCLIP configs/cfg_*.py: (mode, short side, prob_thd, temp_thd, rcs, sfr)."""
    rows = {'voc21': ('whole', 336, 0.1, 0.50, (2.0, 0.3), (2.2, 0.7)),
            'context60': ('slide', 336, 0.1, 0.30, (2.0, 0.3), (1.8, 0.7)),
            'coco_object': ('slide', 336, 0.1, 0.11, (2.0, 0.4), (1.8, 0.7)),
            'voc20': ('whole', 336, 0.0, 0.10, (2.0, 0.6), (2.1, 0.6)),
            'context59': ('slide', 336, 0.0, 0.25, (2.0, 0.4), (1.8, 0.7)),
            'coco_stuff171': ('slide', 336, 0.0, 0.11, (2.0, 0.4), (1.8, 0.7)),
            'cityscapes': ('slide', 560, 0.0, 0.10, (2.0, 0.2), (2.1, 0.6)),
            'ade20k150': ('slide', 336, 0.0, 0.25, (2.0, 0.3), (2.1, 0.7))}
    for ds, (mode, scale, prob, temp, rcs, sfr) in rows.items():
        name = f'resclip_vit-b16_openai_{mode}{scale}_{ds}'
        p, att = protocol(name), load(name).model.attention
        assert (p['mode'], p['scale'], p['prob'], p['logit'], p['area'], p['pamr']) == (
            mode, (2048, scale), prob, 40.0, None, 0), ds
        assert (p['pos'], p['pad'], p['precision']) == ('dino', 'drop', 'fp16_cuda'), ds
        assert (att.type, att.host, att.rcs_layers) == ('ResCLIPAttention', 'naclip', (5, 6, 7, 8)), ds
        assert (att.temp_thd, tuple(att.rcs), tuple(att.sfr)) == (temp, rcs, sfr), ds


def test_proxyclip_protocol():
    """mc-lan/ProxyCLIP @e7b767f configs/cfg_*.py: (short side, crop, prob_thd); β 1.2, γ 3.0,
    DINO ViT-B/8, stride 112, logit 40, their class lists everywhere."""
    rows = {'voc21': (336, 336, 0.2), 'context60': (336, 336, 0.15), 'coco_object': (336, 336, 0.25),
            'voc20': (336, 336, 0.0), 'context59': (336, 336, 0.0), 'coco_stuff171': (336, 336, 0.0),
            'cityscapes': (448, 224, 0.0), 'ade20k150': (448, 336, 0.0)}
    queries = {'voc21': 46, 'coco_object': 97}
    for ds, (scale, crop, prob) in rows.items():
        name = f'proxyclip_vit-b16_openai_dino-b8_slide{crop}_{ds}'
        p, m = protocol(name), load(name).model
        assert (p['mode'], p['crop'], p['stride'], p['scale']) == (
            'slide', (crop, crop), (112, 112), (2048, scale)), ds
        assert (p['logit'], p['prob'], p['area'], p['pamr'], p['renorm']) == (40.0, prob, None, 0, False), ds
        assert (p['pos'], p['pad'], m.backbone_cfg.pad_multiple, p['precision']) == (
            'dino', 'even_stretch', 56, 'fp16_cuda'), ds
        assert (m.attention.type, m.attention.beta, m.attention.gamma) == ('ProxyCLIPAttention', 1.2, 3.0)
        assert m.proxy == dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'), ds
        assert p['queries'] == queries.get(ds, p['classes']), ds
        assert p['templates'] == 'openai_imagenet' and m.clip.pretrained == 'openai', ds


def test_corrclip_protocol():
    """zdk258/CorrCLIP @103bc18 CorrCLIPv1/configs/cfg_*.py: (short side, crop, prob_thd, mask
    folder); MetaCLIP ViT-B/16 + DINO ViT-B/8, τ 4, ε 0.2, branches 1.0/0.5, map correction."""
    rows = {'voc21': (336, 336, 0.2, 'voc'), 'context60': (336, 336, 0.15, 'context'),
            'coco_object': (336, 336, 0.25, 'coco'), 'voc20': (336, 336, 0.0, 'voc'),
            'context59': (336, 336, 0.0, 'context'), 'coco_stuff171': (336, 336, 0.0, 'coco'),
            'cityscapes': (448, 224, 0.0, 'city'), 'ade20k150': (448, 336, 0.0, 'ade')}
    queries = {'voc21': 46, 'coco_object': 96}
    for ds, (scale, crop, prob, folder) in rows.items():
        name = f'corrclip_vit-b16_metaclip_dino-b8_slide{crop}_{ds}'
        p, m = protocol(name), load(name).model
        assert (p['mode'], p['crop'], p['stride'], p['scale']) == (
            'slide', (crop, crop), (112, 112), (2048, scale)), ds
        assert (p['logit'], p['prob'], p['area'], p['pamr'], p['renorm']) == (40.0, prob, None, 0, False), ds
        assert (p['pos'], p['pad'], m.backbone_cfg.pad_multiple, p['precision']) == (
            'dino', 'even_stretch', 56, 'fp16_cuda'), ds
        att = m.attention
        assert (att.type, att.tau, att.merge_eps, att.spatial_weight, att.semantic_weight) == (
            'CorrCLIPAttention', 4.0, 0.2, 1.0, 0.5), ds
        assert m.proxy == dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'), ds
        assert m.mask_source == dict(type='FolderMasks', root=f'data/region_masks/{folder}'), ds
        assert m.test_cfg.map_correction and p['queries'] == queries.get(ds, p['classes']), ds
        assert (m.clip.model_name, m.clip.pretrained) == ('ViT-B-16-quickgelu', 'metaclip_fullcc'), ds


def test_cass_protocol():
    """MICV-yonsei/CASS @228ecdd configs/cfg_*.py: (mode, short side, prob_thd, w, a, h, global,
    singular-value rescale) on SCLIP's harness with DINO ViT-B/8 keys."""
    rows = {'voc21': ('whole', 336, 0.1, 0.1, 0.03, 0.10, 'window', True),
            'context60': ('slide', 336, 0.1, 0.25, 0.04, 0.09, 'image', True),
            'coco_object': ('slide', 336, 0.1, 0.25, 0.01, 0.10, 'image', True),
            'voc20': ('slide', 336, 0.0, 0.4, 0.02, 0.10, 'image', False),
            'context59': ('slide', 336, 0.0, 0.25, 0.04, 0.09, 'image', True),
            'coco_stuff171': ('slide', 336, 0.0, 0.2, 0.02, 0.02, 'image', True),
            'cityscapes': ('slide', 560, 0.0, 0.1, 0.03, 0.14, 'window', False),
            'ade20k150': ('slide', 336, 0.0, 0.3, 0.05, 0.06, 'image', True)}
    for ds, (mode, scale, prob, w, a, h, glob, rescale) in rows.items():
        name = f'cass_vit-b16_openai_dino-b8_{mode}{scale}_{ds}'
        p, m = protocol(name), load(name).model
        assert (p['mode'], p['scale'], p['prob'], p['logit'], p['area'], p['pamr']) == (
            mode, (2048, scale), prob, 40.0, None, 0), ds
        if mode == 'slide':
            assert (p['crop'], p['stride']) == ((224, 224), (112, 112)), ds
        assert (p['pos'], p['pad'], p['precision']) == ('dino', 'drop', 'fp16_cuda'), ds
        head, att = m.decode_head, m.attention
        assert (head.global_weight, head.nudge_weight, head.cluster_distance, head.global_from,
                head.linkage) == (w, a, h, glob, 'ward'), ds
        assert (att.type, att.eigen, att.rank, att.scale, att.std) == ('CASSAttention', 20, 10, 10.0, 5.0)
        assert att.get('rescale_singular', True) == rescale, ds
        assert m.proxy == dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'), ds
        assert m.backbone_cfg.with_global and p['names'] == protocol(next(
            f.stem for f in (CONFIGS / 'sclip').glob(f'sclip_*_{ds}.py')))['names'], ds


def test_trident_protocol():
    """YuHengsss/Trident @a93b346 configs/cfg_*.py: (short side, stride, prob_thd, coarse_thresh,
    cos_fac, refine_neg_cos, SAM halves); 336 windows, DINO ViT-B/16, SAM ViT-B, refinement on."""
    rows = {'voc21': (448, 224, 0.2, 0.2, 1.2, True, False),
            'context60': (576, 224, 0.15, 0.15, 1.2, True, False),
            'coco_object': (448, 224, 0.25, 0.25, 1.2, True, False),
            'voc20': (336, 112, 0.0, 0.2, 0.0, True, False),
            'context59': (576, 224, 0.0, 0.15, 1.2, True, False),
            'coco_stuff171': (448, 224, 0.0, 0.05, 1.2, True, False),
            'cityscapes': (688, 224, 0.0, 0.1, 3.0, False, True),
            'ade20k150': (576, 224, 0.0, 0.05, 1.2, False, False)}
    for ds, (scale, stride, prob, coarse, cos, neg, halves) in rows.items():
        name = f'trident_vit-b16_openai_dino-b16_sam-b_slide336_{ds}'
        p, m = protocol(name), load(name).model
        t = m.test_cfg
        assert (m.type, p['crop'], p['stride'], p['scale'], p['logit'], p['prob']) == (
            'TridentSegmentor', (336, 336), (stride, stride), (2048, scale), 40.0, prob), ds
        assert (t.coarse_thresh, t.cos_fac, t.refine_neg_cos, t.sam_halves) == (coarse, cos, neg, halves), ds
        assert (t.sam_refine, t.sam_iou_thresh, t.minimal_area, t.sam_mask_coeff) == (True, 0.8, 225, 0.005)
        assert (m.attention.type, m.attention.mean_over) == ('ProxyCLIPAttention', 'batch'), ds
        assert m.proxy == dict(type='TimmProxy', model_name='vit_base_patch16_224.dino'), ds
        assert m.sam.variant == 'vit_b' and p['names'] == protocol(
            f'proxyclip_vit-b16_openai_dino-b8_slide{224 if ds == "cityscapes" else 336}_{ds}')['names']


def test_reco_protocol():
    """NoelShin/reco @5c5e1bc configs/reco_*.yaml (identical but for the dataset): k 50, DeiT-S/16-SIN,
    RN50x16 text attention, context tree/sky/building/road/person; (dataset, classes, queries, crop):
    320 centre crop with nearest resizing (utils/utils.py:65-120), KITTI-STEP at full size."""
    rows = {'crop320_cityscapes27': ('Cityscapes27Dataset', 27, 27, 320),
            'crop320_coco_stuff27': ('COCOStuff27Dataset', 27, 171, 320),
            'full_kitti_step': ('KITTISTEPDataset', 19, 19, None)}
    for name, (dataset, classes, queries, crop) in rows.items():
        cfg = load(f'reco_rn50x16_vit-l14-336_deit-s16_{name}')
        m, ds = cfg.model, cfg.test_dataloader.dataset
        assert (m.type, m.k, m.coseg_size, m.templates, m.seed_slice) == (
            'ReCoSegmentor', 50, 224, 'maskclip', 'authors'), name
        assert m.context_categories == ('tree', 'sky', 'building', 'road', 'person'), name
        assert m.context_elimination and m.text_attention, name
        assert (m.clip.model_name, m.retrieval_clip.model_name) == ('RN50x16', 'ViT-L-14-336'), name
        names = parse_classes(m.class_names)
        assert (ds.type, len(names), sum(map(len, names))) == (dataset, classes, queries), name
        steps = {s['type']: s for s in ds.pipeline}
        assert 'Resize' not in steps and cfg.test_evaluator.type == 'IoUMetric', name
        got = steps.get('ShortSideCenterCrop')
        assert (got and (got['size'], got['interpolation'])) == (crop and (crop, 'nearest')), name
        assert list(steps)[:2] == ['LoadImageFromFile', 'LoadSTEPAnnotations' if crop is None
                                   else 'LoadAnnotations'], name   # labels cropped with the image
    coco = load('reco_rn50x16_vit-l14-336_deit-s16_crop320_coco_stuff27').test_dataloader.dataset
    assert coco.ann_file == 'curated/val2017/Coco164kFull_Stuff_Coarse.txt'


def test_ovseg_protocol():
    """ov-seg @36f49d4 configs/ovseg_swinB_vitL_bs32_120k.yaml + GETTING_STARTED.md: short side 640
    (max 2560), MASK_THR 0.4, expand 1.0, 'vild', prompts depth 3, ensemble w 0.7 / 0.6 Pascal
    Context / 0.45 VOC; Swin-B window 12, 100 queries, text dim 768 (1024 hidden); class names as
    the authors' registered datasets (ADE-150 detectron2's, 847, 459 theirs)."""
    rows = {'ade20k150': (0.7, 150, 'ADE20KDataset'), 'ade20k847': (0.7, 847, 'ClassFileSegDataset'),
            'context59': (0.6, 59, 'PascalContextDataset59'),
            'context459': (0.6, 459, 'ClassFileSegDataset'), 'voc20': (0.45, 20, 'PascalVOC20Dataset')}
    for ds, (weight, classes, dataset) in rows.items():
        cfg = load(f'ovseg_swin-b_vit-l14_ft-mpt_{ds}')
        m, test = cfg.model, cfg.model.test_cfg
        assert (test.ensemble_weight, test.mask_thr, test.expand_ratio, test.clip_ensemble) == (
            weight, 0.4, 1.0, True), ds
        assert (m.mask_prompt_depth, m.templates, m.clip.model_name) == (3, 'vild', 'ViT-L-14'), ds
        head, swin = m.proposals.head, m.proposals.backbone
        assert (head.num_queries, head.embed_dims, head.embed_hidden_dims, swin.window_size,
                swin.embed_dims, swin.depths) == (100, 768, 1024, 12, 128, (2, 2, 18, 2)), ds
        assert len(parse_classes(m.class_names)) == classes, ds
        ds_cfg = cfg.test_dataloader.dataset
        steps = [s['type'] for s in ds_cfg.pipeline]
        assert ds_cfg.type == dataset and cfg.test_pipeline[1]['scale'] == (2560, 640), ds
        wide = classes > 255
        assert steps[2] == ('LoadWideAnnotations' if wide else 'LoadAnnotations'), ds
        assert cfg.test_evaluator.get('ignore_index', 255) == (65535 if wide else 255), ds
    names = parse_classes(load('ovseg_swin-b_vit-l14_ft-mpt_ade20k150').model.class_names)
    assert names[6] == ['road, route'] and names[8] == ['window']        # detectron2's, stripped
    small = load('ovseg_r101c_vit-b16_ft-mpt_ade20k150')     # configs/ovseg_R101c_vitB_bs32_120k.yaml
    m, r = small.model, small.model.proposals.backbone
    assert (m.clip.model_name, m.test_cfg.mask_thr, m.test_cfg.ensemble_weight) == ('ViT-B-16', 0.5, 0.7)
    assert (r.type, r.depth, r.stem_channels, r.multi_grid, r.norm_eval) == (
        'mmseg.ResNetV1c', 101, 128, (1, 2, 4), True)
    assert m.proposals.head.embed_dims == 512 and small.test_pipeline[1]['scale'] == (2048, 512)


def test_ovseg_first_stage_training_recipe(tmp_path):
    """ov-seg configs/ovseg_swinB_vitL_bs32_120k.yaml SOLVER/INPUT: AdamW 6e-5, wd 0.01 (0 on norms
    and embeddings), full-model clip 0.01, warm-up 1500 from 1e-6, poly 0.9 to 120k, 32 images a
    step on 8 GPUs; short side 320..1280 step 64 (≤ 2560), 640 crops, flip, SSD colour jitter;
    validated on ADE20K-150 with its own names. The pipeline runs on a planted COCO-Stuff image."""
    import numpy as np
    from PIL import Image
    from mmseg.registry import DATASETS
    cfg = load('ovseg_swin-b_vit-l14_openai_train640_120k_coco-stuff171')
    opt, sched = cfg.optim_wrapper, cfg.param_scheduler
    assert (opt.optimizer.type, opt.optimizer.lr, opt.optimizer.weight_decay, opt.clip_grad.max_norm) == (
        'AdamW', 6e-5, 0.01, 0.01)
    assert opt.paramwise_cfg.norm_decay_mult == 0.0
    assert [(s.type, s.begin, s.end) for s in sched] == [('LinearLR', 0, 1500), ('PolyLR', 1500, 120000)]
    assert sched[0].start_factor == 1e-6 and sched[1].power == 0.9
    assert cfg.train_cfg.max_iters == 120000 and cfg.train_dataloader.batch_size * 8 == 32
    m = cfg.model
    assert (m.train_parts, m.mask_prompt_depth, m.clip.pretrained) == (('proposals',), 0, 'openai')
    assert len(parse_classes(m.class_names)) == 171
    assert m.proposals.backbone.init_cfg.checkpoint == 'checkpoints/swin-b_in22k_384_mmseg.pth'
    resize = cfg.train_pipeline[2]
    assert resize.scales == list(range(320, 1281, 64)) and resize.max_size == 2560
    hook = [h for h in cfg.custom_hooks if h.type == 'ValClassesHook'][0]
    assert len(parse_classes(hook.classes)) == 150
    (tmp_path / 'images/train2017').mkdir(parents=True)
    (tmp_path / 'annotations/train2017').mkdir(parents=True)
    Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(tmp_path / 'images/train2017/1.jpg')
    Image.fromarray(np.full((300, 400), 7, np.uint8)).save(
        tmp_path / 'annotations/train2017/1_labelTrainIds.png')
    ds = cfg.train_dataloader.dataset
    ds.data_root = str(tmp_path)
    sample = DATASETS.build(ds)[0]
    assert max(sample['inputs'].shape[-2:]) <= 640
    assert set(sample['data_samples'].gt_sem_seg.data.unique().tolist()) <= {7, 255}


def test_common_protocol_is_sclips_for_every_method():
    for method in ('naclip', 'clearclip', 'maskclip', 'vanilla', 'scclip', 'rfclip', 'resclip'):
        for ds in DATASETS:
            p = protocol(f'{method}_vit-b16_openai_common_{ds}')
            scale = {'coco_stuff171': 448, 'cityscapes': 560}.get(ds, 336)
            ref = protocol(f'sclip_vit-b16_openai_slide{scale}_{ds}')
            assert p == ref, (method, ds)
            attention = load(f'{method}_vit-b16_openai_common_{ds}').model.attention
            assert (attention if isinstance(attention, str) else
                    {'ResCLIPAttention': 'resclip'}[attention.type]) == method


@pytest.mark.parametrize('folder', ['sclip', 'clearclip', 'dinoiser', 'maskclip', 'clipseg',
                                    'proxyclip', 'corrclip'])
def test_class_lists_parse(folder):
    for path in sorted((LISTS / folder).glob('*.txt')):
        names = parse_classes(str(path), allow_shared_names=True)
        want = {'voc21': 21, 'voc20': 20, 'context60': 60, 'context59': 59, 'coco_object': 81,
                'coco_stuff171': 171, 'cityscapes': 19, 'ade20k150': 150}[path.stem]
        assert len(names) == want, path


def tiny_family(model_name):
    """The tiny model of the same image-tower family as ``model_name``."""
    from .conftest import TINY_CONVNEXT, TINY_EVA02, TINY_SIGLIP
    for key, cfg in (('SigLIP', TINY_SIGLIP), ('EVA', TINY_EVA02), ('convnext', TINY_CONVNEXT),
                     ('RN', TINY_RN)):
        if key in model_name:
            return cfg
    return TINY_VIT


def test_every_zero_shot_config_builds_with_a_tiny_clip():
    from mmseg.registry import MODELS
    from .conftest import TINY_DINO, TINY_OVSEG_PROPOSALS, TINY_PROXY, TINY_SAM, TINY_SAM_MODEL
    count = 0
    for path in sorted(CONFIGS.rglob('*.py')):
        if ('_base_' in path.parts or path.parent.name in ('denseclip', 'instances')
                or '_train' in path.name):
            continue
        model = Config.fromfile(str(path)).model
        if model.type == 'ProposalGenerator':                       # no CLIP (tests/test_models/test_proposals.py)
            continue
        model.clip = dict(model_name='tiny', model_cfg=tiny_family(model.clip.model_name))
        if 'teacher' in model:
            model.teacher = TINY_DINO
        if 'proxy' in model:
            model.proxy = TINY_SAM if model.proxy.type == 'SAMProxy' else TINY_PROXY
        if 'sam' in model:
            model.sam = TINY_SAM_MODEL
        if 'encoder' in model:                                      # ReCo's co-segmentation ViT
            model.encoder = dict(type='TimmProxy', model_name=model.encoder.model_name,
                                 pretrained=False, model_kwargs=dict(embed_dim=32, depth=1, num_heads=2))
            model.retrieval_clip = dict(model_name='tiny', model_cfg=TINY_VIT)
        if 'proposals' in model:                                    # OVSeg's Swin-B first stage
            model.proposals = TINY_OVSEG_PROPOSALS
        if (model.get('mask_source') or {}).get('type') == 'InstanceMasks':   # its segmentor's CLIP
            model.mask_source.segmentor = dict(type='ZeroShotSegmentor', clip=model.clip)
        if (model.get('mask_source') or {}).get('type') in ('SAMMasks', 'SAM2Masks'):
            model.mask_source = dict(type='DINOClusterMasks')      # the mask models need weights
        if isinstance(model.get('attention'), dict) and model.attention.type == 'CorrCLIPAttention':
            model.attention.spatial_layers = 1                     # the tiny tower has 3 blocks
        MODELS.build(model)
        count += 1
    assert count >= 120
