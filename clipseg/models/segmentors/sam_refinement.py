"""Trident's SAM refinement (YuHengsss/Trident @a93b346 seg_utils/utils.py:27-197): every
connected region of every confident class prompts SAM with its box, its most confident point and
the class's probability map; the masks SAM is sure of (predicted IoU above a threshold) relabel
the image, each class scored by its masks' probabilities times its own."""
from typing import Dict, List, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ..masks.base import resize_ids


def class_regions(labels: Tensor, probs: Tensor, coarse_thresh: float, minimal_area: int
                  ) -> Dict[int, Tuple[Tensor, Tensor, Tensor]]:
    """(h, w) labels and (K, h, w) probabilities → {class: (masks (n, h, w), boxes (n, 4) x1 y1 x2 y2
    inclusive, points (n, 2) x y)} over the 8-connected regions of at least ``minimal_area``
    pixels, for classes whose best probability reaches ``coarse_thresh`` (utils.py:27-69)."""
    from torchvision.ops import masks_to_boxes
    out = {}
    for c in range(probs.shape[0]):
        if probs[c].max() < coarse_thresh:
            continue
        n, parts = cv2.connectedComponents((labels == c).cpu().numpy().astype(np.uint8), connectivity=8)
        masks = [torch.from_numpy(parts == r) for r in range(1, n)]
        masks = [m.to(probs.device) for m in masks if int(m.sum()) >= minimal_area]
        if not masks:
            continue
        masks = torch.stack(masks)
        flat = (probs[c][None] * masks).flatten(1).argmax(1)
        points = torch.stack([flat % probs.shape[-1], flat // probs.shape[-1]], dim=1)
        out[c] = (masks, masks_to_boxes(masks), points)
    return out


@torch.no_grad()
def sam_refine(predictor, labels: Tensor, probs: Tensor, image_hw: Tuple[int, int],
               coarse_thresh: float, minimal_area: int = 225, mask_coeff: float = 0.005,
               iou_thresh: float = 0.8, prompt_3d: bool = True) -> Tensor:
    """(H, W) labels, (K, H, W) probabilities at the image's size ``image_hw`` → refined labels;
    ``predictor``: a ``SamPredictor`` holding the image (``set_image`` done). Regions are found at
    half resolution (utils.py:104-111); pixels no kept mask covers keep their label.
    ``prompt_3d``: the mask prompt goes to SAM as (1, 256, 256), as the authors pass it
    (utils.py:140-154), where SAM's LayerNorm2d then normalises over rows instead of channels;
    False: SAM's documented (1, 1, 256, 256)."""
    K, H, W = probs.shape
    dh, dw = H // 2, W // 2
    small = resize_ids(labels, (dh, dw))
    p = F.interpolate(probs[None], size=(dh, dw), mode='bilinear', align_corners=False)[0]
    if coarse_thresh > 0:
        small[p.max(0).values < coarse_thresh] = K               # uncertain: no class's region
    regions = class_regions(small, p, coarse_thresh, minimal_area)
    side = 4 * predictor.model.prompt_encoder.image_embedding_size[0]   # 256 for SAM
    mh, mw = predictor.transform.get_preprocess_shape(image_hw[0], image_hw[1], side)
    kept: List[Tuple[int, Tensor]] = []
    for c, (masks, boxes, points) in sorted(regions.items()):
        prompt = F.interpolate(p[c][None, None], size=(mh, mw), mode='bilinear', align_corners=False)
        prompt = F.pad(prompt, (0, side - mw, 0, side - mh))
        prompt = torch.where(prompt > coarse_thresh, mask_coeff * prompt, torch.zeros_like(prompt))
        if prompt_3d:
            prompt = prompt[0]
        box = predictor.transform.apply_boxes_torch(boxes.float(), (dh, dw))
        point = predictor.transform.apply_coords_torch(points.float(), (dh, dw))[:, None]
        _, scores, low = predictor.predict_torch(
            point_coords=point, point_labels=torch.ones(len(point), 1, device=point.device),
            boxes=box, mask_input=prompt, multimask_output=False)
        good = scores[:, 0] > iou_thresh
        if good.any():
            kept.append((c, low[good]))
    if not kept:
        return labels
    logits = predictor.model.postprocess_masks(torch.cat([m for _, m in kept]), predictor.input_size,
                                               predictor.original_size)
    if tuple(logits.shape[-2:]) != tuple(image_hw):
        logits = F.interpolate(logits, size=image_hw, mode='bilinear', align_corners=False)
    masks, sig = logits[:, 0] > predictor.model.mask_threshold, logits[:, 0].sigmoid()
    scores = torch.zeros(K, H, W, device=probs.device)
    start = 0
    for c, low in kept:
        n = len(low)
        union = masks[start:start + n].any(0)
        scores[c] = (sig[start:start + n] * probs[c]).max(0).values * union
        start += n
    return torch.where(scores.sum(0) == 0, labels, scores.argmax(0))
