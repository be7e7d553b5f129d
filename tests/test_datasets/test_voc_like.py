"""The stand-in for ../shared's VOC sample (used where ../shared is absent, as in a clone) is a
VOC folder mmseg reads, with the sample's names, sizes and labelled shapes."""
import numpy as np

from ..data.voc_like import IMAGES, make_voc_like


def test_the_stand_in_reads_as_a_voc_dataset(tmp_path):
    from mmseg.datasets import PascalVOCDataset
    root = make_voc_like(tmp_path / 'voc')
    ds = PascalVOCDataset(data_root=str(root), data_prefix=dict(img_path='JPEGImages',
                          seg_map_path='SegmentationClass'),
                          ann_file='ImageSets/Segmentation/val.txt',
                          pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])
    assert len(ds) == 3
    for i, (name, (w, h), shapes) in enumerate(IMAGES):
        item = ds[i]
        assert item['img_path'].endswith(f'{name}.jpg') and item['img'].shape == (h, w, 3)
        labels = set(np.unique(item['gt_seg_map']).tolist())
        assert labels == {0, 255} | {cls for cls, *_ in shapes}
    assert len((root / 'class_names.txt').read_text().splitlines()) == 21
