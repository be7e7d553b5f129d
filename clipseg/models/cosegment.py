"""ReCo's co-segmentation (Shin et al., NeurIPS 2022, Sec. 3.2): the region k retrieved images
share, found as one seed patch per image, averaged into a reference embedding.

Written after the authors' code (NoelShin/reco ``networks/reco.py:100-206``): patch similarities
across all images, each column weighted by that patch's text attention (and context
elimination), the best match in every image averaged per patch, one seed per image at the
maximum, the raw seed features averaged and normalised.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

SEED_SLICES = ('authors', 'exact')


def text_attention(dense: Tensor, text: Tensor, size: Tuple[int, int],
                   temperature: float = 10.0) -> Tensor:
    """Dense CLIP features (B, D, h, w), unit text embeddings (Q, D) → (B, Q, *size)
    sigmoid(temperature · cosine), resized bilinearly (reco.py:100-124)."""
    cos = torch.einsum('bdhw,qd->bqhw', F.normalize(dense.float(), dim=1), text.float())
    return F.interpolate(torch.sigmoid(temperature * cos), size=tuple(size), mode='bilinear',
                         align_corners=False)


def context_weights(features: Tensor, context_refs: Tensor) -> Tensor:
    """(k, C, h, w) features, (n, C) context references → (k, h, w) Π (1 − sigmoid(cos))
    (context elimination, reco.py:127-137, 244-251)."""
    cos = torch.einsum('kchw,nc->knhw', F.normalize(features.float(), dim=1),
                       F.normalize(context_refs.float(), dim=1))
    return (1 - torch.sigmoid(cos)).prod(dim=1)


def seeds(features: Tensor, weights: Tensor, seed_slice: str = 'authors') -> Tensor:
    """(k, C, h, w) features, (k, h, w) weights in [0, 1] → (k,) flat seed index per image.

    Every patch's cosine to every patch, columns scaled by their weight; per image j the best
    match in image j; averaged over j; the argmax within each image (reco.py:139-189).
    ``seed_slice='authors'``: as their loop, whose column slice for image j runs to image 2j
    (``adj_mat[:, start_col: start_col + end_col]``, reco.py:175); ``'exact'``: image j alone."""
    if seed_slice not in SEED_SLICES:
        raise ValueError(f'seed_slice must be one of {SEED_SLICES}, got {seed_slice!r}')
    k, C, h, w = features.shape
    n = h * w
    flat = F.normalize(features.float().permute(0, 2, 3, 1).reshape(k * n, C), dim=1)
    adj = (flat @ flat.T) * weights.float().reshape(1, k * n)
    per_image = adj.view(k * n, k, n).amax(dim=2)                   # (k n, k): best in image j
    if seed_slice == 'authors':                                       # images j .. min(2j, k-1)
        per_image = torch.stack([per_image[:, j:min(2 * j, k - 1) + 1].amax(dim=1)
                                 for j in range(k)], dim=1)
    return per_image.mean(dim=1).view(k, n).argmax(dim=1)


def reference_embedding(features: Tensor, weights: Tensor, seed_slice: str = 'authors') -> Tensor:
    """(k, C, h, w) features, (k, h, w) weights → (C,) unit reference: the mean of the raw
    (unnormalised) seed features, normalised (reco.py:182-206)."""
    k, C = features.shape[:2]
    at = seeds(features, weights, seed_slice)
    picked = features.float().reshape(k, C, -1)[torch.arange(k), :, at]
    return F.normalize(picked.mean(dim=0), dim=0)
