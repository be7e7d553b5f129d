"""Masked region crops for CLIP (OVSeg, Liang et al., CVPR 2023, Sec. 3.2): each mask's box, the
outside filled with the mean colour, normalised, squashed to CLIP's input size.

The order is the authors' (ov-seg ``clip_adapter/adapter.py:147-198``, ``utils.py:11-66``):
threshold → tight box (exclusive right/bottom) → optional expansion about its centre → clamp →
``image * mask + (1 - mask) * fill`` → normalise (the fill becomes 0) → bicubic resize of each crop
to ``size`` × ``size`` (no aspect ratio kept); the crop's mask is resized nearest.
"""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def mask_boxes(masks: Tensor) -> Tensor:
    """(N, H, W) bool → (N, 4) int64 boxes (x1, y1, x2, y2), x2/y2 exclusive; zeros for empty."""
    boxes = torch.zeros(masks.shape[0], 4, dtype=torch.int64)
    for i, m in enumerate(masks):
        cols, rows = torch.nonzero(m.any(0)).flatten(), torch.nonzero(m.any(1)).flatten()
        if len(cols):
            boxes[i] = torch.stack([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1])
    return boxes


def expand_box(box: Sequence[int], ratio: float) -> Tuple[int, int, int, int]:
    """Scale a box's width and height by ``ratio`` about its centre, truncated to int."""
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, w, h = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) * ratio, (y2 - y1) * ratio
    return int(cx - w / 2), int(cy - h / 2), int(cx + w / 2), int(cy + h / 2)


def masked_crops(image: Tensor, masks: Tensor, mean: Sequence[float], std: Sequence[float],
                 threshold: float = 0.5, size: int = 224, expand_ratio: float = 1.0
                 ) -> Tuple[Tensor, Tensor, Tensor]:
    """Crops of ``image`` (3, H, W) RGB in 0-255 under ``masks`` (N, H, W) (probabilities or
    binary, kept where > ``threshold``); ``mean``/``std`` CLIP's, in 0-255 (the fill is ``mean``).

    Returns crops (M, 3, size, size) normalised, their masks (M, size, size) in {0, 1} and
    ``valid`` (N,) bool: which masks had a pixel (the M crops are those, in order)."""
    if masks.ndim != 3 or masks.shape[-2:] != image.shape[-2:]:
        raise ValueError(f'masks must be (N, H, W) of the image size {tuple(image.shape[-2:])}, '
                         f'got {tuple(masks.shape)}')
    binary = masks > threshold
    valid = binary.flatten(1).any(1)
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=image.device).view(3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=image.device).view(3, 1, 1)
    H, W = image.shape[-2:]
    crops, crop_masks = [], []
    for m, box in zip(binary[valid], mask_boxes(binary[valid].cpu())):
        x1, y1, x2, y2 = expand_box(box.tolist(), expand_ratio)
        x1, y1, x2, y2 = max(x1, 0), max(y1, 0), min(x2, W), min(y2, H)
        keep = m[y1:y2, x1:x2].float()[None]
        region = image[:, y1:y2, x1:x2].float() * keep + (1 - keep) * mean_t
        region = (region - mean_t) / std_t
        crops.append(F.interpolate(region[None], size=(size, size), mode='bicubic',
                                   align_corners=False))
        crop_masks.append(F.interpolate(keep[None], size=(size, size), mode='nearest')[0])
    if not crops:
        empty = image.new_zeros(0, 3, size, size, dtype=torch.float32)
        return empty, image.new_zeros(0, size, size, dtype=torch.float32), valid
    return torch.cat(crops), torch.cat(crop_masks), valid
