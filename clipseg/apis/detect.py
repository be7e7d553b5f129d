"""Detect instances (boxes, masks, scores) of free-text classes with a detection config."""
from typing import Dict, List, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from ..utils import load_image
from .inference import ImageInput, image_list, image_pipeline, is_detection_config


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
    single, items = image_list(images)
    if classes is not None:
        if not hasattr(model, 'set_classes'):
            raise ValueError(f'{type(model).__name__} is trained on its own classes '
                             f'({len(model.dataset_meta["classes"])}); it takes no new class list')
        model.set_classes(classes)
    names = list(model.dataset_meta['classes'])
    pipeline = image_pipeline(model.cfg)
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
