"""Detect instances (boxes, masks, scores) of free-text classes with a detection config."""
import copy
import os
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import Compose, pseudo_collate

from ..utils import load_image
from .inference import ImageInput, is_detection_config


def _det_pipeline(cfg) -> Compose:
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    steps = []
    for step in copy.deepcopy(cfg.test_dataloader.dataset.pipeline):
        name = step['type'].split('.')[-1]
        if name == 'LoadImageFromFile':
            step = dict(type='LoadImageFromNDArray')
        elif name == 'LoadAnnotations':
            continue
        steps.append(step)
    return Compose(steps)


@torch.no_grad()
def detect(model: torch.nn.Module, images: Union[ImageInput, Sequence[ImageInput]], classes=None,
           batch_size: int = 1) -> Union[Dict, List[Dict]]:
    """Instances in one image or a list (paths or (H, W, 3) BGR arrays) of a detection model
    (``clipseg.init_model('instances_...')``).

    Returns per image a dict of arrays: ``bboxes`` (N, 4) x1, y1, x2, y2 in pixels, ``labels``
    (N,) class indices, ``scores`` (N,), ``masks`` (N, H, W) bool (absent for box-only models),
    and ``classes`` (the names). An image with nothing found gives N = 0, not an error.
    """
    if not is_detection_config(model.cfg):
        raise TypeError('this is a segmentation model: use clipseg.segment, or a detection config '
                        '(clipseg.list_configs("instances_*"))')
    single = isinstance(images, (str, os.PathLike, np.ndarray))
    items = [images] if single else list(images)
    if not items:
        raise ValueError('no images given')
    if classes is not None:
        if not hasattr(model, 'set_classes'):
            raise ValueError(f'{type(model).__name__} is trained on its own classes '
                             f'({len(model.class_names)}); it takes no new class list')
        model.set_classes(classes)
    names = list(model.class_names() if callable(model.class_names) else model.class_names)
    pipeline = _det_pipeline(model.cfg)
    arrays = [load_image(item) for item in items]
    results = []
    for start in range(0, len(arrays), batch_size):
        batch = [pipeline(dict(img=a, img_id=start + i)) for i, a in
                 enumerate(arrays[start:start + batch_size])]
        for sample in model.test_step(pseudo_collate(batch)):
            found = sample.pred_instances
            out = dict(bboxes=found.bboxes.cpu().numpy().astype(np.float32),
                       labels=found.labels.cpu().numpy().astype(np.int64),
                       scores=found.scores.cpu().numpy().astype(np.float32), classes=names)
            if 'masks' in found:
                out['masks'] = found.masks.cpu().numpy().astype(bool)
            results.append(out)
    return results[0] if single else results
