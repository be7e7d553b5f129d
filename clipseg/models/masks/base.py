"""The contract of a mask source, and the two operations on region maps every user needs."""
from typing import Optional, Union

import numpy as np
import torch
from torch import Tensor, nn

import torch.nn.functional as F

from ..building import build_part


class MaskSource(nn.Module):
    """Gives an image's class-agnostic regions as one id map.

    ``forward(image, meta, proxy=None)``: ``image`` (H, W, 3) uint8 RGB (the model's input, or the
    file at ``meta['img_path']`` for sources that read the original), ``meta`` the data sample's
    metainfo → (h, w) int64 region ids at any size (the segmentor resizes it, nearest), 0 where no
    region lies. ``uses_proxy``: the source clusters the segmentor's proxy features (``proxy``).
    """
    uses_proxy = False

    def forward(self, image: np.ndarray, meta: dict, proxy: Optional[nn.Module] = None) -> Tensor:
        raise NotImplementedError


def paint_regions(masks: Union[np.ndarray, Tensor]) -> Tensor:
    """(N, H, W) binary masks → (H, W) ids 1..N painted in increasing area, a larger mask over a
    smaller one where they overlap, 0 where none lies (CorrCLIP corrclip_segmentor.py:334-342)."""
    masks = torch.as_tensor(np.asarray(masks) if not isinstance(masks, Tensor) else masks).bool()
    if masks.ndim != 3:
        raise ValueError(f'masks must be (N, H, W), got shape {tuple(masks.shape)}')
    out = torch.zeros(masks.shape[1:], dtype=torch.int64)
    order = torch.argsort(masks.flatten(1).sum(1), stable=True)
    for region, index in enumerate(order.tolist(), start=1):
        out[masks[index]] = region
    return out


def region_vote(labels: Tensor, regions: Tensor) -> Tensor:
    """CorrCLIP's map correction (corrclip_segmentor.py:216-222): every region but the smallest id
    (the unsegmented rest) takes its most frequent label (ties: the smallest label).
    ``labels`` and ``regions``: (H, W) of the same size."""
    if labels.shape != regions.shape:
        raise ValueError(f'labels {tuple(labels.shape)} and regions {tuple(regions.shape)} differ in size')
    ids, inverse = torch.unique(regions.flatten(), return_inverse=True)
    if len(ids) < 2:
        return labels
    K = int(labels.max()) + 1
    votes = torch.zeros(len(ids) * K, dtype=torch.int64, device=labels.device)
    votes.index_add_(0, inverse * K + labels.flatten(), torch.ones_like(inverse))
    winner = votes.view(len(ids), K).argmax(1)
    out = winner[inverse].view_as(labels)
    rest = inverse.view_as(labels) == 0
    return torch.where(rest, labels, out)


def build_mask_source(cfg) -> Optional[MaskSource]:
    """``dict(type='FolderMasks', root=...)`` (or a module, or None) → the mask source."""
    return build_part(cfg, MaskSource, 'mask source')


def resize_ids(ids: Tensor, size) -> Tensor:
    """(h, w) integer ids → ``size`` by PyTorch's nearest resize (each cell's top-left source pixel,
    as the authors' ``F.interpolate(..., mode='nearest')``)."""
    return F.interpolate(ids[None, None].float(), size=tuple(size), mode='nearest')[0, 0].long()
