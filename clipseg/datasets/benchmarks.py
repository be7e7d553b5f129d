"""The two zero-shot benchmarks mmseg has no class for: VOC20 (VOC without background) and
COCO-Object (COCO-Stuff's 80 things + background). Both read standard layouts."""
from mmseg.datasets import BaseSegDataset, COCOStuffDataset, PascalVOCDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class PascalVOC20Dataset(PascalVOCDataset):
    """Pascal VOC without its background class: label 0 is ignored, classes 1..20 become 0..19."""
    METAINFO = dict(classes=PascalVOCDataset.METAINFO['classes'][1:],
                    palette=PascalVOCDataset.METAINFO['palette'][1:])

    def __init__(self, ann_file, reduce_zero_label=True, **kwargs):
        super().__init__(ann_file=ann_file, reduce_zero_label=reduce_zero_label, **kwargs)


@DATASETS.register_module()
class COCOObjectDataset(BaseSegDataset):
    """COCO-Object: background (0) + COCO's 80 object classes, from converted COCO-Stuff maps."""
    METAINFO = dict(classes=('background',) + COCOStuffDataset.METAINFO['classes'][:80],
                    palette=[[0, 0, 0]] + COCOStuffDataset.METAINFO['palette'][:80])

    def __init__(self, img_suffix='.jpg', seg_map_suffix='_instanceTrainIds.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
