"""OVSeg's large-vocabulary benchmarks build from their configs on planted folders: 16-bit TIFF
labels keep their values above 255, 65535 is ignored by IoUMetric, and the label maps decide which
images are evaluated."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from PIL import Image

import clipseg  # noqa: F401  (registers the datasets and transforms)
from mmseg.registry import DATASETS, METRICS
from mmseg.structures import SegDataSample
from ..conftest import REPO

CONFIGS = REPO / 'configs' / 'ovseg'


def build(ds: str, root):
    cfg = Config.fromfile(str(CONFIGS / f'ovseg_swin-b_vit-l14_ft-mpt_{ds}.py'))
    cfg.test_dataloader.dataset.data_root = str(root)
    return DATASETS.build(cfg.test_dataloader.dataset), cfg


def save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, fmt)


def test_ade20k847_keeps_wide_labels_and_ignores_65535(tmp_path):
    labels = np.zeros((32, 48), np.uint16)
    labels[:, 12:24], labels[:, 24:36], labels[:, 36:] = 300, 846, 65535
    save(tmp_path / 'annotations_detectron2/validation/ADE_val_1.tif', labels, 'TIFF')
    save(tmp_path / 'images_detectron2/validation/ADE_val_1.jpg', np.zeros((32, 48, 3), np.uint8))
    dataset, cfg = build('ade20k847', tmp_path)
    assert len(dataset.metainfo['classes']) == 847 and dataset.metainfo['classes'][1] == 'building, edifice'
    sample = dataset[0]['data_samples']
    gt = sample.gt_sem_seg.data[0]
    assert sorted(torch.unique(gt).tolist()) == [0, 300, 846, 65535]
    assert gt.shape == (32, 48) and dataset[0]['inputs'].shape[-2:] == (640, 960)   # short side 640
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = dataset.metainfo
    pred = gt.clone()
    pred[:, 36:] = 5                                       # ignored pixels: any prediction
    pred[:, 12:18] = 0                                     # half of class 300 → class 0
    sample.set_data(dict(pred_sem_seg=PixelData(data=pred[None])))
    metric.process([], [sample.to_dict()])
    miou = metric.compute_metrics(metric.results)['mIoU']
    # IoU: class 0 = 12/(12+6), class 300 = 6/12, class 846 = 1 (pixels per row); others absent
    assert miou == pytest.approx(100 * (12 / 18 + 0.5 + 1) / 3, abs=0.01)


def test_context459_evaluates_the_images_with_label_maps(tmp_path):
    for name in ('2008_000001', '2008_000002', '2008_000003'):      # all of VOC2010's images
        save(tmp_path / f'JPEGImages/{name}.jpg', np.zeros((16, 16, 3), np.uint8))
    save(tmp_path / 'annotations_detectron2/pc459_val/2008_000002.tif',
         np.full((16, 16), 458, np.uint16), 'TIFF')
    dataset, _ = build('context459', tmp_path)
    assert len(dataset) == 1 and dataset[0]['data_samples'].img_path.endswith('2008_000002.jpg')
    assert torch.unique(dataset[0]['data_samples'].gt_sem_seg.data).tolist() == [458]


def test_a_label_map_that_is_not_an_image_is_named(tmp_path):
    (tmp_path / 'annotations_detectron2/validation').mkdir(parents=True)
    (tmp_path / 'annotations_detectron2/validation/ADE_val_2.tif').write_bytes(b'not a tiff')
    save(tmp_path / 'images_detectron2/validation/ADE_val_2.jpg', np.zeros((8, 8, 3), np.uint8))
    dataset, _ = build('ade20k847', tmp_path)
    with pytest.raises(ValueError, match='ADE_val_2.tif'):
        dataset[0]
