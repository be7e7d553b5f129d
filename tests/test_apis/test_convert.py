"""Released checkpoints in the authors' layouts, written out from their module structure (random
weights), convert and load into clipseg's models; bad files are refused by name."""
import argparse
import ast
from collections import OrderedDict

import pytest
import torch

import clipseg
from clipseg.apis.convert import convert_checkpoint

NO_WEIGHTS = {'model.clip.pretrained': None, 'model.teacher.pretrained': False,
              'model.background_teacher.dino.pretrained': False}


def save_dinoiser_last_pt(path):
    """wysoczanska/clip_dinoiser train.py:31-37, 89-92: {'epoch', 'model_state_dict'} holding the
    two heads of the released config (models/clip_dinoiser/clip_dinoiser.py:232-239)."""
    g = torch.Generator().manual_seed(0)
    heads = OrderedDict([('obj_proj.bias', torch.randn(256, generator=g)),
                         ('obj_proj.weight', torch.randn(256, 768, 3, 3, generator=g) * 0.01),
                         ('bkg_decoder.bias', torch.randn(1, generator=g)),
                         ('bkg_decoder.weight', torch.randn(1, 768, 1, 1, generator=g) * 0.01)])
    torch.save({'epoch': 99, 'model_state_dict': heads}, path)
    return heads


def save_found_decoder(path):
    """valeoai/FOUND model.py:53, 168-174: {'decoder': Conv2d(384, 1, 1).state_dict()}."""
    conv = torch.nn.Conv2d(384, 1, (1, 1))
    torch.save({'decoder': conv.state_dict()}, path)
    return conv.state_dict()


def test_dinoiser_heads_convert_and_load(tmp_path):
    heads = save_dinoiser_last_pt(tmp_path / 'last.pt')
    report = convert_checkpoint(str(tmp_path / 'last.pt'), str(tmp_path / 'heads.pth'), 'dinoiser')
    assert sorted(report.placed) == sorted(heads) and not report.unplaced
    model = clipseg.init_model('dinoiser_vit-b16_laion2b_slide448', cfg_options=NO_WEIGHTS,
                               checkpoint=str(tmp_path / 'heads.pth'), classes='cat,dog')
    for key, value in heads.items():
        torch.testing.assert_close(model.decode_head.state_dict()[key], value)
    assert model.parts_ready                      # the segmentor accepts them as trained heads


def test_found_decoder_converts_and_loads(tmp_path):
    conv = save_found_decoder(tmp_path / 'decoder_weights.pt')
    convert_checkpoint(str(tmp_path / 'decoder_weights.pt'), str(tmp_path / 'found.pth'), 'found')
    model = clipseg.init_model('found_vit-s8_dino_train224_unlabelled',
                               cfg_options={'model.dino.pretrained': False},
                               checkpoint=str(tmp_path / 'found.pth'))
    torch.testing.assert_close(model.decoder.weight, conv['weight'])
    with pytest.raises(ValueError, match='no FOUND decoder weights.*--from found'):
        model.load_state_dict(torch.load(tmp_path / 'decoder_weights.pt'), strict=False)


def test_a_file_of_another_model_is_refused_and_nothing_written(tmp_path):
    save_dinoiser_last_pt(tmp_path / 'last.pt')
    with pytest.raises(ValueError, match="expected {'decoder'"):
        convert_checkpoint(str(tmp_path / 'last.pt'), str(tmp_path / 'x.pth'), 'found')
    heads = {'obj_proj.weight': torch.zeros(128, 768, 3, 3), 'obj_proj.bias': torch.zeros(128),
             'bkg_decoder.weight': torch.zeros(1, 768, 1, 1), 'bkg_decoder.bias': torch.zeros(1),
             'extra.weight': torch.zeros(3)}      # heads of another in_dim, and a stray key
    torch.save({'epoch': 3, 'model_state_dict': heads}, tmp_path / 'other.pt')
    with pytest.raises(ValueError, match=r'does not fit(.|\n)*could not be placed: extra.weight'
                                         r'(.|\n)*shape mismatches: obj_proj'):
        convert_checkpoint(str(tmp_path / 'other.pt'), str(tmp_path / 'x.pth'), 'dinoiser')
    assert not (tmp_path / 'x.pth').exists()


def test_full_pickle_needs_unsafe_load(tmp_path):
    heads = save_dinoiser_last_pt(tmp_path / 'last.pt')
    torch.save({'epoch': 99, 'args': argparse.Namespace(lr=1e-3), 'model_state_dict': heads},
               tmp_path / 'pickled.pt')
    with pytest.raises(ValueError, match='refusing to load.*argparse.Namespace.*--unsafe-load'):
        convert_checkpoint(str(tmp_path / 'pickled.pt'), str(tmp_path / 'x.pth'), 'dinoiser')
    assert not (tmp_path / 'x.pth').exists()
    with pytest.warns(UserWarning, match='UNSAFE checkpoint loading'):
        convert_checkpoint(str(tmp_path / 'pickled.pt'), str(tmp_path / 'x.pth'), 'dinoiser',
                           unsafe_load=True)
    assert (tmp_path / 'x.pth').exists()


@pytest.mark.slow
@pytest.mark.parametrize('layout,fmt,config', [
    ('seg_rn50', 'denseclip-seg', 'denseclip_fpn_rn50_openai_512x512_80k_ade20k150'),
    ('seg_vitb16', 'denseclip-seg', 'denseclip_fpn_vit-b16_openai_640x640_80k_ade20k150'),
    ('retinanet_rn50', 'denseclip-det', 'denseclip_retinanet_rn50_openai_1x_coco')])
def test_denseclip_checkpoints_convert_and_load(tmp_path, layout, fmt, config):
    """A checkpoint with the keys and shapes of the authors' released model (mmcv 1.x wrapping,
    random values) converts; every tensor arrives where the renaming rules say."""
    from .references.denseclip_layout import MODELS
    g = torch.Generator().manual_seed(0)
    state = {k: torch.randn(s, generator=g) * 0.02 for k, s in MODELS[layout]().items()}
    torch.save({'meta': {'CLASSES': ('wall',)}, 'state_dict': state, 'optimizer': {}},
               tmp_path / 'released.pth')
    report = convert_checkpoint(str(tmp_path / 'released.pth'), str(tmp_path / 'ours.pth'), fmt,
                                config)
    (tmp_path / 'released.pth').unlink()          # up to 650 MB: keep the suite's disk peak low
    assert report.dropped == ['text_encoder.positional_embedding'] and not report.unplaced
    model = clipseg.init_model(config, cfg_options={'model.clip.pretrained': None},
                               checkpoint=str(tmp_path / 'ours.pth'))
    ours = model.state_dict()
    head = 'decode_head.' if fmt == 'denseclip-seg' else ''
    pairs = {'contexts': f'{head}prompt.contexts', 'gamma': f'{head}context_decoder.gamma',
             'context_decoder.decoder.0.norm1.weight': f'{head}context_decoder.layers.0.norm1.weight',
             'backbone.conv1.weight': 'backbone.visual.conv1.weight'}
    if layout == 'seg_vitb16':
        pairs['backbone.fpn2.1.weight'] = 'backbone.multiscale.1.1.weight'
    for theirs, mine in pairs.items():
        torch.testing.assert_close(ours[mine], state[theirs], msg=theirs)


def _swin_position_index(window):
    """Swin's relative-position index buffer (ov-seg swin.py:118-135): (Δy + w-1)(2w-1) + Δx + w-1."""
    ys, xs = torch.meshgrid(torch.arange(window), torch.arange(window), indexing='ij')
    coords = torch.stack([ys.flatten(), xs.flatten()])
    rel = (coords[:, :, None] - coords[:, None, :]) + window - 1
    return rel[0] * (2 * window - 1) + rel[1]


def _key_lines(name):
    from ..conftest import REPO
    for line in (REPO / 'tests' / 'data' / name).read_text().splitlines():
        if not line.startswith('#'):
            yield line.split('\t')


def save_ovseg_checkpoint(path, pixel_decoder_infix=True, backbone='swin'):
    """facebookresearch/ov-seg: detectron2's {'model': ...} with the keys of OVSeg's modules
    (tests/data/ovseg_*detectron2_tiny_keys.txt, tiny sizes: the Swin-B release, or the R101c
    release's ResNet) and its CLIP under clip_adapter.clip_model (OpenAI layout, mask prompts
    shared by all patches)."""
    from clipseg.models.clip.loader import create_clip
    from ..conftest import TINY_VIT_64
    g = torch.Generator().manual_seed(0)
    state = OrderedDict()
    lines = list(_key_lines('ovseg_detectron2_tiny_keys.txt'))
    if backbone == 'r101c':
        lines = (list(_key_lines('ovseg_r101c_detectron2_tiny_keys.txt'))
                 + [(k, v) for k, v in lines if not k.startswith('backbone.')])
    for key, shape in lines:
        shape = tuple(int(s) for s in shape.strip('()').split(',') if s.strip())
        if not pixel_decoder_infix:
            key = key.replace('sem_seg_head.pixel_decoder.', 'sem_seg_head.')
        state[key] = (_swin_position_index(12) if key.endswith('relative_position_index')
                      else torch.randn(shape, generator=g))
    clip, _ = create_clip(model_name='tiny', model_cfg=TINY_VIT_64)
    for key, value in clip.state_dict().items():
        state['clip_adapter.clip_model.' + key] = value
    state['clip_adapter.clip_model.visual.mask_embedding'] = torch.randn(3, 1, 64, generator=g)
    state['criterion.empty_weight'] = torch.ones(6)
    torch.save({'model': state, 'iteration': 119999}, path)
    return state


@pytest.mark.parametrize('infix', [True, False])
def test_ovseg_release_converts_into_proposals_prompts_and_a_clip_file(tmp_path, infix):
    from ..conftest import TINY_OVSEG_PROPOSALS, TINY_VIT_64, write_tiny_config
    theirs = save_ovseg_checkpoint(tmp_path / 'ovseg.pth', infix)
    config = write_tiny_config(tmp_path, 'configs/ovseg/ovseg_swin-b_vit-l14_ft-mpt_voc20.py',
                               model_cfg=TINY_VIT_64,
                               extra=f'proposals=dict(_delete_=True, **{TINY_OVSEG_PROPOSALS!r})')
    report = convert_checkpoint(str(tmp_path / 'ovseg.pth'), str(tmp_path / 'ours.pth'), 'ovseg',
                                str(config))
    assert not report.unplaced and not report.missing and len(report.placed) == 209
    assert report.dropped == ['criterion.empty_weight']
    clip_file = tmp_path / 'ours_clip.pt'
    model = clipseg.init_model(str(config), checkpoint=str(tmp_path / 'ours.pth'), classes='cat,dog',
                               cfg_options={'model.clip.pretrained': str(clip_file)})
    p = model.proposals
    pix = 'sem_seg_head.pixel_decoder.' if infix else 'sem_seg_head.'
    dec = 'sem_seg_head.predictor.transformer.decoder.'
    for ours, key in [(p.backbone.stages[2].blocks[1].attn.w_msa.qkv.weight, 'backbone.layers.2.blocks.1.attn.qkv.weight'),
                      (p.backbone.stages[0].blocks[0].ffn.layers[1].weight, 'backbone.layers.0.blocks.0.mlp.fc2.weight'),
                      (p.backbone.norm3.bias, 'backbone.norm3.bias'),
                      (p.head.pixel_decoder.last_feat_conv.conv.weight, pix + 'layer_4.weight'),
                      (p.head.pixel_decoder.output_convs[0].gn.weight, pix + 'layer_1.norm.weight'),
                      (p.head.pixel_decoder.lateral_convs[2].conv.weight, pix + 'adapter_3.weight'),
                      (p.head.transformer_decoder.layers[1].cross_attn.attn.in_proj_weight, dec + 'layers.1.multihead_attn.in_proj_weight'),
                      (p.head.transformer_decoder.layers[0].norms[2].weight, dec + 'layers.0.norm3.weight'),
                      (p.head.transformer_decoder.post_norm.weight, dec + 'norm.weight'),
                      (p.head.cls_embed[2].weight, 'sem_seg_head.predictor.class_embed.layers.1.weight'),
                      (p.head.mask_embed[4].bias, 'sem_seg_head.predictor.mask_embed.layers.2.bias'),
                      (p.head.non_object_embedding, 'clip_adapter.non_object_embedding'),
                      (model.image_encoder.visual.conv1.weight, 'clip_adapter.clip_model.visual.conv1.weight'),
                      (model.text_encoder.clip.token_embedding.weight, 'clip_adapter.clip_model.token_embedding.weight')]:
        torch.testing.assert_close(ours, theirs[key], msg=key)
    reduction = theirs['backbone.layers.1.downsample.reduction.weight']      # Swin's merge order
    assert not torch.equal(p.backbone.stages[1].downsample.reduction.weight, reduction)
    torch.testing.assert_close(p.backbone.stages[1].downsample.reduction.weight.sort(1).values,
                               reduction.sort(1).values)
    prompts = theirs['clip_adapter.clip_model.visual.mask_embedding']
    torch.testing.assert_close(model.image_encoder.mask_embedding, prompts.expand(3, 16, 64))
    assert model.parts_ready


def test_an_ovseg_file_without_clip_is_refused_and_nothing_written(tmp_path):
    torch.save({'model': {'backbone.patch_embed.proj.weight': torch.zeros(128, 3, 4, 4)}},
               tmp_path / 'last.pt')                # a MaskFormer without OVSeg's CLIP
    with pytest.raises(ValueError, match='fine-tuned CLIP'):
        convert_checkpoint(str(tmp_path / 'last.pt'), str(tmp_path / 'x.pth'), 'ovseg')
    assert not list(tmp_path.glob('x*'))


def test_ovseg_small_release_converts_its_deeplab_resnet(tmp_path):
    """ovseg_R101c_vitB16_ft_mpt.pth: detectron2's DeepLab-stem ResNet-101 (FrozenBN: no batch
    counters) → mmseg's ResNetV1c; the head and CLIP as the Swin-B release."""
    from ..conftest import TINY_OVSEG_R101C, TINY_VIT_64, write_tiny_config
    theirs = save_ovseg_checkpoint(tmp_path / 'ovseg.pth', backbone='r101c')
    config = write_tiny_config(tmp_path, 'configs/ovseg/ovseg_r101c_vit-b16_ft-mpt_ade20k150.py',
                               model_cfg=TINY_VIT_64,
                               extra=f'proposals=dict(_delete_=True, **{TINY_OVSEG_R101C!r})')
    report = convert_checkpoint(str(tmp_path / 'ovseg.pth'), str(tmp_path / 'ours.pth'),
                                'ovseg-r101c', str(config))
    assert not report.unplaced and not report.missing and len(report.placed) == 530 + 76
    model = clipseg.init_model(str(config), checkpoint=str(tmp_path / 'ours.pth'), classes='cat,dog',
                               cfg_options={'model.clip.pretrained': str(tmp_path / 'ours_clip.pt')})
    r = model.proposals.backbone
    for ours, key in [(r.stem[0].weight, 'backbone.stem.conv1.weight'),
                      (r.stem[7].running_var, 'backbone.stem.conv3.norm.running_var'),
                      (r.layer3[22].bn2.running_mean, 'backbone.res4.22.conv2.norm.running_mean'),
                      (r.layer4[0].downsample[0].weight, 'backbone.res5.0.shortcut.weight'),
                      (r.layer4[0].downsample[1].bias, 'backbone.res5.0.shortcut.norm.bias'),
                      (r.layer1[2].conv3.weight, 'backbone.res2.2.conv3.weight')]:
        torch.testing.assert_close(ours, theirs[key], msg=key)
    assert [b.conv2.dilation[0] for b in r.layer4] == [1, 2, 4] and r.layer4[0].conv2.stride[0] == 2


def test_swin_imagenet_weights_convert_into_the_recipe_backbone(tmp_path):
    """microsoft/Swin-Transformer's layout (patch_embed, layers, norm, head; no per-stage norms) →
    an mmseg SwinTransformer init file (backbone.*), loaded by init_cfg=Pretrained."""
    from mmseg.registry import MODELS
    from ..conftest import TINY_OVSEG_PROPOSALS, TINY_VIT_64, write_tiny_config
    g = torch.Generator().manual_seed(0)
    state = {k[len('backbone.'):]: (_swin_position_index(12) if k.endswith('index')
                                    else torch.randn(ast.literal_eval(shape), generator=g))
             for k, shape in _key_lines('ovseg_detectron2_tiny_keys.txt')
             if k.startswith('backbone.') and not k.startswith('backbone.norm')}
    state.update({'norm.weight': torch.ones(256), 'norm.bias': torch.zeros(256),
                  'head.weight': torch.zeros(10, 256), 'head.bias': torch.zeros(10)})
    torch.save({'model': state}, tmp_path / 'swin.pth')
    config = write_tiny_config(tmp_path, 'configs/ovseg/ovseg_swin-b_vit-l14_openai_train640_120k_coco-stuff171.py',
                               model_cfg=TINY_VIT_64,
                               extra=f'proposals=dict(_delete_=True, **{TINY_OVSEG_PROPOSALS!r})')
    report = convert_checkpoint(str(tmp_path / 'swin.pth'), str(tmp_path / 'init.pth'), 'swin', str(config))
    assert sorted(report.dropped) == ['head.bias', 'head.weight', 'norm.bias', 'norm.weight']
    backbone = MODELS.build(dict(TINY_OVSEG_PROPOSALS['backbone'], init_cfg=dict(
        type='Pretrained', checkpoint=str(tmp_path / 'init.pth'))))
    backbone.init_weights()
    torch.testing.assert_close(backbone.stages[3].blocks[1].attn.w_msa.qkv.weight,
                               state['layers.3.blocks.1.attn.qkv.weight'])
    torch.testing.assert_close(backbone.stages[0].blocks[0].ffn.layers[0][0].bias,
                               state['layers.0.blocks.0.mlp.fc1.bias'])
    assert torch.equal(backbone.norm2.weight, torch.ones(128))          # fresh per-stage norms
