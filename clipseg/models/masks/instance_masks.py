"""Regions from clipseg's own training-free instances: a zero-shot segmentor labels the image and
each connected region of a class is a mask (``dense_regions.instances_from_maps``)."""
from typing import Optional, Sequence

import numpy as np
import torch
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..dense_regions import instances_from_maps, segmentor_config
from .base import MaskSource, paint_regions


@MODELS.register_module()
class InstanceMasks(MaskSource):
    """A zero-shot segmentor's instances as regions → an (H, W) id map (painted by increasing
    area; 0 where no instance lies).

    Args:
        segmentor: a segmentor model config, or ``dict(config=NAME, ...)`` (a shipped segmentation
            config, as the instance configs name theirs).
        classes: the vocabulary the segmentor labels with; None: the classes of the model using
            this source (OVSeg passes its own in ``meta['class_names']``).
        background: names whose regions are no instance (``'background'`` by default).
        min_area, prob_thr: see ``instances_from_maps``.
    """

    def __init__(self, segmentor: dict, classes=None, background: Sequence[str] = ('background',),
                 min_area: int = 64, prob_thr: float = 0.0):
        super().__init__()
        self.segmentor = MODELS.build(segmentor_config(dict(segmentor))).eval()
        self.segmentor.test_cfg.update(keep_logits=True, max_logits_bytes=None)
        self.background = {b.lower() for b in background}
        self.min_area, self.prob_thr = int(min_area), float(prob_thr)
        self.classes = None
        if classes is not None:
            self._use(classes)

    def _use(self, classes) -> None:
        if classes != self.classes:
            self.segmentor.set_classes(classes)
            self.classes = classes

    @torch.no_grad()
    def forward(self, image: np.ndarray, meta: dict, proxy=None) -> Tensor:
        if self.classes is None or meta.get('class_names') not in (None, self.classes):
            if meta.get('class_names') is None:
                raise ValueError('InstanceMasks has no classes: set model.mask_source.classes')
            self._use(meta['class_names'])
        h, w = image.shape[:2]
        bgr = torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).permute(2, 0, 1)
        sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))
        data = self.segmentor.data_preprocessor(dict(inputs=[bgr], data_samples=[sample]), False)
        out = self.segmentor.predict(data['inputs'], data['data_samples'])[0]
        names = self.segmentor.dataset_meta['classes']
        skip = [k for k, name in enumerate(names) if name.lower() in self.background]
        found = instances_from_maps(out.seg_logits.data, out.pred_sem_seg.data[0], skip=skip,
                                    min_area=self.min_area, prob_thr=self.prob_thr,
                                    nms_iou=1.0, max_per_img=10 ** 6)
        if not len(found.masks):
            return torch.zeros(h, w, dtype=torch.int64)
        return paint_regions(found.masks)
