"""The large-vocabulary benchmarks OVSeg reports and mmseg has no class for: ADE20K-847 and Pascal
Context-459, in the layout the authors' prepare scripts write (ov-seg ``datasets/prepare_*.py``):
JPEG images and 16-bit TIFF label maps whose value is the class index, 65535 = ignore
(``register_ade20k_full.py:972-990``, ``register_pascal_context.py:563-582``)."""
import os.path as osp

import mmcv
import numpy as np
from mmengine import fileio

from mmseg.datasets import BaseSegDataset
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS, TRANSFORMS
from ..models.text.class_names import read_class_file
from ..utils.palette import rgb_palette

WIDE_IGNORE = 65535


@TRANSFORMS.register_module()
class LoadWideAnnotations(LoadAnnotations):
    """mmseg's ``LoadAnnotations`` for label maps with more than 255 classes: the values are kept
    (uint16), where mmseg casts to uint8. No ``reduce_zero_label``: the maps hold class indices."""

    def _load_seg_map(self, results: dict) -> None:
        if results.get('reduce_zero_label'):
            raise ValueError('LoadWideAnnotations reads class-index maps: reduce_zero_label must '
                             'be False')
        data = fileio.get(results['seg_map_path'], backend_args=self.backend_args)
        seg = mmcv.imfrombytes(data, flag='unchanged', backend='cv2')
        if seg is None:
            raise ValueError(f'{results["seg_map_path"]}: not a readable label map')
        seg = np.asarray(seg).squeeze()
        if seg.ndim != 2:
            raise ValueError(f'{results["seg_map_path"]}: a label map must have one channel, '
                             f'got shape {seg.shape}')
        results['gt_seg_map'] = seg
        results['seg_fields'].append('gt_seg_map')


@DATASETS.register_module()
class ClassFileSegDataset(BaseSegDataset):
    """Images and class-index label maps, the class names read from ``classes_file`` (one class a
    line, the label value is the line's index). Defaults: ``.jpg`` images, ``.tif`` maps,
    ignore 65535 (evaluate with ``IoUMetric(ignore_index=65535)``). Without ``ann_file`` the label
    maps decide which images are evaluated (as detectron2's ``load_sem_seg``): Pascal Context's
    images sit among all of VOC2010's."""

    def __init__(self, classes_file: str, img_suffix='.jpg', seg_map_suffix='.tif',
                 ignore_index: int = WIDE_IGNORE, **kwargs):
        names = tuple(read_class_file(classes_file))
        if not names:
            raise ValueError(f'{classes_file}: no class names')
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix,
                         ignore_index=ignore_index,
                         metainfo=dict(classes=names, palette=rgb_palette(len(names))), **kwargs)

    def load_data_list(self):
        if self.ann_file:
            return super().load_data_list()
        img_dir, ann_dir = self.data_prefix['img_path'], self.data_prefix['seg_map_path']
        maps = fileio.list_dir_or_file(ann_dir, list_dir=False, suffix=self.seg_map_suffix,
                                       recursive=True, backend_args=self.backend_args)
        return [dict(img_path=osp.join(img_dir, m[:-len(self.seg_map_suffix)] + self.img_suffix),
                     seg_map_path=osp.join(ann_dir, m), label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label, seg_fields=[])
                for m in sorted(maps)]
