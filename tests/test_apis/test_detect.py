"""Training-free detection end to end: the API, tools/test.py with mmdet's CocoMetric on the
synthetic shapes world (an oracle segmentor must score mAP ≈ 1), and bad input."""
import json
import subprocess
import sys
import uuid

import numpy as np

import pytest

pytest.importorskip('mmdet', reason='detection needs mmdet (the onedl set installs it)')
import torch

import clipseg
from ..conftest import REPO, TINY_VIT

BASE = REPO / 'configs' / 'instances' / 'instances_sclip_vit-b16_openai_slide336_coco.py'


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp('shapes')
    subprocess.run([sys.executable, str(REPO / 'tools' / 'make_synthetic_dataset.py'), str(out),
                    '--train', '4', '--val', '6', '--size', '96'], check=True, capture_output=True)
    return out


def write_config(tmp_path, root):
    path = tmp_path / 'instances_tiny.py'
    path.write_text(
        f"_base_ = ['{BASE}']\n"
        f"model = dict(segmentor=dict(clip=dict(_delete_=True, model_name='tiny', "
        f"model_cfg={TINY_VIT!r}, pretrained=None), templates='a_photo_of', "
        f"class_names='{root}/class_names.txt', allow_shared_names=False,\n"
        "    test_cfg=dict(mode='whole', prob_thd=0.0)), min_area=16)\n"
        f"data = dict(data_root='{root}/', ann_file='annotations/instances_val.json', "
        "data_prefix=dict(img='img_dir/val/'), metainfo=dict(classes=('red circle', "
        "'green square', 'blue triangle', 'yellow star')))\n"
        "val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=data)\n"
        "test_dataloader = val_dataloader\n"
        f"val_evaluator = dict(ann_file='{root}/annotations/instances_val.json')\n"
        "test_evaluator = val_evaluator\n")
    return path


def test_detect_api_returns_arrays_and_free_text_classes(tmp_path, shapes):
    model = clipseg.init_model(str(write_config(tmp_path, shapes)))
    image = np.full((80, 100, 3), 127, np.uint8)
    out = clipseg.detect(model, image, classes='cat,dog')
    assert out['classes'] == ['cat', 'dog']
    n = len(out['scores'])
    assert out['bboxes'].shape == (n, 4) and out['masks'].shape == (n, 80, 100)
    assert out['labels'].dtype == np.int64 and (out['labels'] < 2).all()
    with pytest.raises(TypeError, match='detection model'):
        clipseg.segment(model, image)
    with pytest.raises(ValueError, match='blank|duplicate'):
        clipseg.detect(model, image, classes='cat,cat')


def test_oracle_maps_score_full_map_through_cocometric(tmp_path, shapes):
    """Replace the segmentor's maps by the ground truth: every non-touching shape must come out as
    one instance with its exact mask, so CocoMetric's bbox and segm mAP are (almost) 1."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    import cv2
    cfg = Config.fromfile(str(write_config(tmp_path, shapes)))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.visualizer.name = f'visualizer_{uuid.uuid4().hex}'  # not an earlier test's (its dir is gone)
    runner = Runner.from_cfg(cfg)
    segmentor = runner.model.segmentor

    def oracle(inputs, samples):
        out = []
        for sample in samples:
            path = sample.metainfo.get('img_path')
            labels = torch.from_numpy(cv2.imread(path.replace('img_dir', 'ann_dir'), 0).astype(np.int64))
            probs = torch.nn.functional.one_hot(labels, 5).permute(2, 0, 1).float()
            from mmengine.structures import PixelData
            sample.set_data(dict(pred_sem_seg=PixelData(data=labels[None]), seg_logits=PixelData(data=probs)))
            out.append(sample)
        return out

    model = runner.model
    original = model.predict

    def predict(inputs, samples, rescale=True):
        segmentor.predict = lambda x, seg_samples: oracle(x, [
            s.__class__(metainfo=dict(s.metainfo, img_path=d.img_path)) for s, d in zip(seg_samples, samples)])
        return original(inputs, samples, rescale)
    model.predict = predict
    metrics = runner.test()
    assert metrics['coco/bbox_mAP'] > 0.85 and metrics['coco/segm_mAP'] > 0.85, metrics


@pytest.mark.slow
def test_tools_test_py_runs_cocometric_and_names_a_missing_annotation_file(tmp_path, shapes):
    cfg = write_config(tmp_path, shapes)
    res = subprocess.run([sys.executable, 'tools/test.py', str(cfg), '--work-dir', str(tmp_path / 'w')],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'coco/bbox_mAP' in res.stdout and 'coco/segm_mAP' in res.stdout
    bad = subprocess.run([sys.executable, 'tools/test.py', str(cfg), '--data-root', str(tmp_path / 'nowhere')],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0 and 'annotation file not found' in bad.stderr
    assert 'Traceback' not in bad.stderr
    json.loads((shapes / 'annotations' / 'instances_val.json').read_text())  # left intact


def test_nothing_found_is_an_empty_result_and_the_demo_draws_it(tmp_path, shapes, capsys):
    from clipseg.cli import main
    cfg = write_config(tmp_path, shapes)
    model = clipseg.init_model(str(cfg), cfg_options={'model.min_area': 10 ** 9})
    out = clipseg.detect(model, np.full((50, 70, 3), 90, np.uint8), classes='cat')
    assert out['bboxes'].shape == (0, 4) and out['masks'].shape == (0, 50, 70)
    image = shapes / 'img_dir' / 'val' / '00000.png'
    rc = main(['segment', str(image), '--task', 'det', '--classes', 'red circle,green square',
               '--config', str(cfg), '--out', str(tmp_path / 'det.png'), '--score-thr', '0'])
    printed = capsys.readouterr()
    assert rc == 0, printed.err
    assert (tmp_path / 'det.png').stat().st_size > 0 and 'instances with score' in printed.out
    import re                                         # scores printed in % as the picture draws them
    boxes = [line for line in printed.out.splitlines() if 'box [' in line]
    assert boxes and all(re.search(r' \d+\.\d%  box \[', line) for line in boxes)
    rc = main(['segment', str(image), '--task', 'det', '--classes', 'cat',
               '--config', 'maskclip_vit-b16_openai_slide336', '--out', str(tmp_path / 'x.png')])
    assert rc == 2 and 'segmentation config' in capsys.readouterr().err


def test_detection_without_mmdet_names_the_extra(monkeypatch):
    """A plain install has no mmdet: a detection config says which extra brings it."""
    import importlib.util
    from clipseg.apis.inference import load_config
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name == 'mmdet' else real(name, *a))
    with pytest.raises(ImportError, match=r'clipseg\[det\]'):
        load_config('instances_sclip_vit-b16_openai_slide336_coco')
