"""The unsupervised-segmentation benchmarks of PiCIE and STEGO that ReCo reports (NoelShin/reco
``datasets/``): Cityscapes with 27 classes, COCO-Stuff with 27 coarse classes, KITTI-STEP with 19,
each read from the layout the authors' code expects. Labels become class ids when loaded (mmseg's
``label_map``, applied by ``LoadAnnotations``); anything else is 255, which IoUMetric ignores."""
import numpy as np

from mmseg.datasets import BaseSegDataset, CityscapesDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS, TRANSFORMS
from ..utils.palette import rgb_palette

# reco datasets/cityscapes.py:129-157, Cityscapes labelIds 7..33 in order
CITYSCAPES27 = ('road', 'sidewalk', 'parking lot', 'rail track', 'building', 'wall', 'fence',
                'guard rail', 'bridge', 'tunnel', 'pole', 'polegroup', 'traffic light',
                'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck',
                'bus', 'caravan', 'trailer', 'train', 'motorcycle', 'bicycle')
# reco datasets/coco_stuff.py:211-240 (IIC's order: 12 thing supercategories, then 15 stuff)
COCO_STUFF27 = ('electronic', 'appliance', 'food things', 'furniture things', 'indoor', 'kitchen',
                'accessory', 'animal', 'outdoor', 'person', 'sports', 'vehicle', 'ceiling', 'floor',
                'food stuff', 'furniture stuff', 'raw material', 'textile', 'wall', 'window',
                'building', 'ground', 'plant', 'sky', 'solid', 'structural', 'water')
# coarse class of each stuffthingmaps id 0..181 (COCO id - 1), IIC's table as reco
# datasets/coco_stuff.py:72-88 uses it; ids 91..181 are the stuff classes
COCO_FINE_TO_COARSE = (
    9, 11, 11, 11, 11, 11, 11, 11, 11, 8, 8, 8, 8, 8, 8, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6,
    6, 6, 6, 6, 6, 6, 6, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 5, 5, 5, 5, 5, 5, 5, 5, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 1, 1, 1,
    1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 17, 17, 22, 20, 20, 22, 15, 25, 16, 13, 12, 12, 17, 17, 23,
    15, 15, 17, 15, 21, 15, 25, 13, 13, 13, 13, 13, 22, 26, 14, 14, 15, 22, 21, 21, 24, 20, 22, 15,
    17, 16, 15, 22, 24, 21, 17, 25, 16, 21, 17, 22, 16, 21, 21, 25, 21, 26, 21, 24, 20, 17, 14, 21,
    26, 15, 23, 20, 21, 24, 15, 24, 22, 25, 15, 20, 17, 17, 22, 14, 18, 18, 18, 18, 18, 18, 18, 26,
    26, 19, 19, 24)


@DATASETS.register_module()
class Cityscapes27Dataset(BaseSegDataset):
    """Cityscapes ``*_gtFine_labelIds.png``: labelIds 7..33 → classes 0..26, ids 0..6 (void) →
    255 (reco ``datasets/cityscapes.py:45, 103-104``; ``eval.py`` counts labels 0..26 only)."""
    METAINFO = dict(classes=CITYSCAPES27, palette=rgb_palette(27))

    def __init__(self, img_suffix='_leftImg8bit.png', seg_map_suffix='_gtFine_labelIds.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        return {i: i - 7 if i >= 7 else 255 for i in range(34)}


@DATASETS.register_module()
class COCOStuff27Dataset(BaseSegDataset):
    """COCO-Stuff ``stuffthingmaps`` PNGs (ids 0..181, 255 unlabelled) → the 27 coarse classes
    (reco ``datasets/coco_stuff.py:156-162``); images listed by ``ann_file`` (STEGO's curated list)."""
    METAINFO = dict(classes=COCO_STUFF27, palette=rgb_palette(27))

    def __init__(self, img_suffix='.jpg', seg_map_suffix='.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None):
        return dict(enumerate(COCO_FINE_TO_COARSE))


@DATASETS.register_module()
class KITTISTEPDataset(BaseSegDataset):
    """KITTI-STEP: frames ``<split>/<seq>/*.png``, panoptic maps ``panoptic_maps/<split>/<seq>/*.png``
    whose red channel is the Cityscapes trainId, 255 void (reco ``datasets/kitti_step.py:33-34,
    96-98``); load the maps with ``LoadSTEPAnnotations``."""
    METAINFO = CityscapesDataset.METAINFO    # the same 19 classes in the same order (kitti_step.py:113-133)

    def __init__(self, img_suffix='.png', seg_map_suffix='.png', **kwargs):
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)


@TRANSFORMS.register_module()
class LoadSTEPAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` for STEP panoptic maps: (H, W, 3) → ``gt_seg_map`` (H, W), the red
    channel (the class; green and blue hold the instance)."""

    def _load_seg_map(self, results: dict) -> None:
        super()._load_seg_map(results)
        seg = results['gt_seg_map']
        if seg.ndim == 3:                   # mmcv decodes colour maps as BGR
            results['gt_seg_map'] = np.ascontiguousarray(seg[..., 2])
