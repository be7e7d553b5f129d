"""The OV-COCO, LVIS v1 and OV-LVIS configs of the training-free detectors evaluate end to end with
mmdet's OVCocoMetric / LVISMetric: the synthetic shapes world in each format, the segmentor's maps
replaced by the ground truth (every shape must come out with its exact box and mask)."""
import json
import subprocess
import sys
import uuid

import numpy as np

import pytest
import torch

pytest.importorskip('mmdet', reason='detection needs mmdet (the onedl set installs it)')

from ..conftest import REPO, TINY_VIT

SHAPES = ('red circle', 'green square', 'blue triangle', 'yellow star')
FREQUENCY = ('f', 'c', 'r', 'r')          # LVIS: two rare classes, as OV-LVIS's novel ones
INSTANCES = REPO / 'configs' / 'instances'


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    """The shapes world with its COCO file, and the same annotations in LVIS v1's format."""
    out = tmp_path_factory.mktemp('ov_shapes')
    subprocess.run([sys.executable, str(REPO / 'tools' / 'make_synthetic_dataset.py'), str(out),
                    '--train', '2', '--val', '5', '--size', '96'], check=True, capture_output=True)
    coco = json.loads((out / 'annotations' / 'instances_val.json').read_text())
    lvis = dict(coco, images=[dict(img, coco_url='http://images.cocodataset.org/img_dir/val/'
                                   + img['file_name'], neg_category_ids=[],
                                   not_exhaustive_category_ids=[]) for img in coco['images']],
                categories=[dict(cat, synset=cat['name'], synonyms=[cat['name']], frequency=f,
                                 image_count=1, instance_count=1, **{'def': cat['name']})
                            for cat, f in zip(coco['categories'], FREQUENCY)])
    (out / 'annotations' / 'lvis_val.json').write_text(json.dumps(lvis))
    return out


def write_config(tmp_path, base, root, kind):
    ann = f'{root}/annotations/' + ('instances_val.json' if kind == 'ov_coco' else 'lvis_val.json')
    meta = dict(classes=SHAPES)
    if kind == 'ov_coco':
        meta.update(base_classes=SHAPES[:2], novel_classes=SHAPES[2:])
    prefix = 'img_dir/val/' if kind == 'ov_coco' else ''
    path = tmp_path / f'{kind}.py'
    path.write_text(
        f"_base_ = ['{base}']\n"
        f"model = dict(segmentor=dict(clip=dict(_delete_=True, model_name='tiny', "
        f"model_cfg={TINY_VIT!r}, pretrained=None), templates='a_photo_of', "
        f"class_names='{root}/class_names.txt', allow_shared_names=False,\n"
        "    test_cfg=dict(mode='whole', prob_thd=0.0)), min_area=16)\n"
        f"data = dict(data_root='{root}/', ann_file='{ann}', data_prefix=dict(img='{prefix}'), "
        f"metainfo={meta!r})\n"
        "val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=data)\n"
        "test_dataloader = val_dataloader\n"
        f"val_evaluator = dict(ann_file='{ann}', outfile_prefix='{tmp_path}/results')\n"
        "test_evaluator = val_evaluator\n")
    return path


def oracle_metrics(cfg_path, tmp_path, hide=()):
    """Runner.test() with the segmentor answering the ground truth of each image (the classes in
    ``hide``, 1-based, answered as background)."""
    import cv2
    from mmengine.config import Config
    from mmengine.runner import Runner
    from mmengine.structures import PixelData
    cfg = Config.fromfile(str(cfg_path))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.visualizer.name = f'visualizer_{uuid.uuid4().hex}'  # not an earlier test's (its dir is gone)
    runner = Runner.from_cfg(cfg)
    segmentor, model = runner.model.segmentor, runner.model
    original = model.predict

    def oracle(samples):
        for sample in samples:
            path = sample.metainfo['img_path'].replace('img_dir', 'ann_dir')
            labels = torch.from_numpy(cv2.imread(path, 0).astype(np.int64))
            for k in hide:
                labels[labels == k] = 0
            probs = torch.nn.functional.one_hot(labels, 5).permute(2, 0, 1).float()
            sample.set_data(dict(pred_sem_seg=PixelData(data=labels[None]),
                                 seg_logits=PixelData(data=probs)))
        return samples

    def predict(inputs, samples, rescale=True):
        segmentor.predict = lambda x, seg_samples: oracle([
            s.__class__(metainfo=dict(s.metainfo, img_path=d.img_path))
            for s, d in zip(seg_samples, samples)])
        return original(inputs, samples, rescale)
    model.predict = predict
    return runner.test()


def test_ov_coco_reports_novel_and_base_ap50(tmp_path, shapes):
    """Ground-truth maps score high on both splits (touching shapes merge: not all 1); hiding the
    two novel classes leaves base AP50 as it was and novel AP50 at 0."""
    base = INSTANCES / 'instances_sclip_vit-b16_openai_slide336_ov_coco.py'
    cfg = write_config(tmp_path, base, shapes, 'ov_coco')
    metrics = oracle_metrics(cfg, tmp_path)
    assert metrics['coco/novel_ap50'] > 0.7 and metrics['coco/base_ap50'] > 0.9, metrics
    blind = oracle_metrics(cfg, tmp_path, hide=(3, 4))
    assert blind['coco/novel_ap50'] == 0 and blind['coco/base_ap50'] == metrics['coco/base_ap50']


@pytest.mark.parametrize('kind', ['lvis_v1', 'ov_lvis'])
def test_lvis_configs_report_ap_by_frequency(tmp_path, shapes, kind):
    pytest.importorskip('lvis')
    base = INSTANCES / f'instances_sclip_vit-b16_openai_slide336_{kind}.py'
    metrics = oracle_metrics(write_config(tmp_path, base, shapes, kind), tmp_path)
    assert metrics['lvis/segm_APr'] > 0.8 and metrics['lvis/segm_AP'] > 0.8, metrics
    assert ('lvis/bbox_AP' in metrics) == (kind == 'lvis_v1')


def test_shipped_configs_hold_the_splits():
    from mmengine.config import Config
    cfg = Config.fromfile(str(INSTANCES / 'instances_naclip_vit-b16_openai_slide336_ov_coco.py'))
    meta = cfg.test_dataloader.dataset.metainfo
    assert (len(meta.classes), len(meta.base_classes), len(meta.novel_classes)) == (65, 48, 17)
    assert set(meta.base_classes) | set(meta.novel_classes) == set(meta.classes)
    assert cfg.test_evaluator.type == 'OVCocoMetric'
    lvis = Config.fromfile(str(INSTANCES / 'instances_naclip_vit-b16_openai_slide336_ov_lvis.py'))
    assert lvis.test_evaluator.type == 'LVISMetric' and lvis.test_evaluator.metric == 'segm'
    names = (REPO / 'configs/_base_/datasets/class_names/coco/lvis_v1.txt').read_text().splitlines()
    assert len(names) == 1 + 1203 and names[0] == 'background'


@pytest.mark.slow
@pytest.mark.parametrize('kind,key', [('ov_coco', 'coco/novel_ap50'), ('lvis_v1', 'lvis/bbox_APr'),
                                      ('ov_lvis', 'lvis/segm_APr')])
def test_tools_test_py_runs_the_open_vocabulary_configs(tmp_path, shapes, kind, key):
    if 'lvis' in kind:
        pytest.importorskip('lvis')
    cfg = write_config(tmp_path, INSTANCES / f'instances_sclip_vit-b16_openai_slide336_{kind}.py',
                       shapes, kind)
    res = subprocess.run([sys.executable, 'tools/test.py', str(cfg), '--work-dir', str(tmp_path / 'w')],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert key in res.stdout
