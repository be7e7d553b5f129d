"""Our training-free instances as a mask source: each region is a connected part of one class in
the segmentor's own label map, background gives none, and OVSeg hands the source its classes."""
import cv2
import numpy as np
import pytest
import torch

from mmseg.registry import MODELS
from ..conftest import TINY_VIT

SEGMENTOR = dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                 templates='a_photo_of', test_cfg=dict(mode='whole'))


def _image():
    g = np.random.default_rng(0)
    return np.kron(g.integers(0, 255, (6, 8, 3)), np.ones((12, 12, 1))).astype(np.uint8)  # 72×96 blocks


def test_regions_are_the_connected_parts_of_each_class():
    torch.manual_seed(0)
    source = MODELS.build(dict(type='InstanceMasks', segmentor=SEGMENTOR,
                               classes='background,cat,dog,tree', min_area=1))
    image = _image()
    ids = source(image, {}).numpy()
    bgr = torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).permute(2, 0, 1)
    data = source.segmentor.data_preprocessor(dict(inputs=[bgr]), False)
    labels = source.segmentor.predict(data['inputs'])[0].pred_sem_seg.data[0].numpy()
    assert len(np.unique(labels)) > 1 and ids.shape == labels.shape
    assert (ids[labels == 0] == 0).all()                         # background: no region
    expected = 0
    for k in range(1, 4):
        count, parts = cv2.connectedComponents((labels == k).astype(np.uint8), connectivity=8)
        for p in range(1, count):                                # each part is exactly one region
            region = np.unique(ids[parts == p])
            assert len(region) == 1 and region[0] > 0
            assert (ids == region[0]).sum() == (parts == p).sum()
            expected += 1
    assert len(np.unique(ids[ids > 0])) == expected > 1


def test_ovseg_names_the_instances_with_its_own_classes():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='OVSegSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                              templates='a_photo_of', class_names='sky,cat,dog',
                              mask_source=dict(type='InstanceMasks', segmentor=SEGMENTOR, min_area=1)))
    out = model.predict(torch.from_numpy(_image()).permute(2, 0, 1)[None].float())[0]
    assert model.mask_source.classes == ['sky', 'cat', 'dog']
    assert out.pred_sem_seg.data.shape == (1, 72, 96)
    lonely = MODELS.build(dict(type='InstanceMasks', segmentor=SEGMENTOR))
    with pytest.raises(ValueError, match='mask_source.classes'):
        lonely(_image(), {})
