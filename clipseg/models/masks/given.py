"""Masks the user gives: a folder of files named after the images, or a Python callable."""
import os
from typing import Callable

import cv2
import numpy as np
import torch
from torch import Tensor

from mmseg.registry import MODELS
from .base import MaskSource, paint_regions


@MODELS.register_module()
class FolderMasks(MaskSource):
    """Region maps read from ``root``, one file per image, named after the image file:
    ``<stem>.npz`` (array ``key``: an (H, W) id map, CorrCLIP's released ``region_masks``, or
    (N, H, W) binary masks) or ``<stem>.png`` (an 8/16-bit id map). Needs ``img_path`` in the
    data sample (datasets, ``clipseg.segment`` on files). The folder is looked up at the first
    image, so a config builds before its masks are downloaded."""

    def __init__(self, root: str, key: str = 'instance_mask'):
        super().__init__()
        self.root, self.key = str(root), key

    def forward(self, image, meta, proxy=None) -> Tensor:
        path = meta.get('img_path')
        if not path:
            raise ValueError('FolderMasks needs the image file name (img_path): pass files, not arrays')
        if not os.path.isdir(self.root):
            raise FileNotFoundError(f'mask folder not found: {self.root!r} (model.mask_source.root; '
                                    'CorrCLIP\'s released masks: region_masks.zip of the Hugging '
                                    'Face dataset dk258/CorrCLIP, unzipped under data/region_masks)')
        stem = os.path.splitext(os.path.basename(str(path)))[0]
        for ext in ('.npz', '.png'):
            file = os.path.join(self.root, stem + ext)
            if os.path.isfile(file):
                return self._read(file)
        raise FileNotFoundError(f'no mask file for {os.path.basename(str(path))!r} in {self.root!r} '
                                f'(expected {stem}.npz or {stem}.png)')

    def _read(self, file: str) -> Tensor:
        if file.endswith('.npz'):
            with np.load(file, allow_pickle=False) as data:
                if self.key not in data:
                    raise ValueError(f'{file}: no array {self.key!r} (has {sorted(data.files)})')
                arr = data[self.key]
        else:
            arr = cv2.imread(file, cv2.IMREAD_UNCHANGED)
            if arr is None or arr.ndim != 2:
                raise ValueError(f'{file}: not a single-channel id map PNG')
        if arr.ndim == 3:
            return paint_regions(arr)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
            raise ValueError(f'{file}: expected an (H, W) integer id map or (N, H, W) masks, '
                             f'got {arr.dtype} {arr.shape}')
        return torch.from_numpy(arr.astype(np.int64))


class CallableMasks(MaskSource):
    """``fn(image (H, W, 3) uint8 RGB, meta) →`` an (H, W) id map or (N, H, W) binary masks."""

    def __init__(self, fn: Callable):
        super().__init__()
        if not callable(fn):
            raise TypeError(f'CallableMasks needs a callable, got {type(fn).__name__}')
        self.fn = fn

    def forward(self, image, meta, proxy=None) -> Tensor:
        out = torch.as_tensor(np.asarray(self.fn(image, meta)))
        if out.ndim == 3:
            return paint_regions(out)
        if out.ndim != 2:
            raise ValueError(f'the mask callable returned shape {tuple(out.shape)}; expected (H, W) '
                             'ids or (N, H, W) masks')
        return out.long()


@MODELS.register_module()
class AnnotationMasks(MaskSource):
    """The ground-truth regions of a data sample, one per class present (ids = class + 1, the
    ignore index left out): oracle masks, to measure mask classification alone (OVSeg's analysis
    with ground-truth masks). Needs ``gt_sem_seg`` in the sample (a dataset with annotations)."""

    def __init__(self, ignore_index: int = 255):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, image, meta, proxy=None) -> Tensor:
        gt = meta.get('gt_sem_seg')
        if gt is None:
            raise ValueError('AnnotationMasks needs the ground truth (gt_sem_seg): use a dataset '
                             'with annotations (LoadAnnotations in the test pipeline)')
        gt = torch.as_tensor(gt).long()
        return torch.where(gt == self.ignore_index, torch.zeros_like(gt), gt + 1)
