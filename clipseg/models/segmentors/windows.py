"""Sliding-window grids and separable bilinear resizing used by the segmentors."""
from functools import lru_cache
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def slide_windows(height: int, width: int, crop: Tuple[int, int],
                  stride: Tuple[int, int]) -> List[Tuple[int, int, int, int]]:
    """Windows (y1, x1, y2, x2) covering the image; the last row/column is shifted back inside
    the image, and an image smaller than a crop is one window (mmseg's slide_inference grid)."""
    (hc, wc), (hs, ws) = crop, stride
    rows = max(height - hc + hs - 1, 0) // hs + 1
    cols = max(width - wc + ws - 1, 0) // ws + 1
    out = []
    for r in range(rows):
        for c in range(cols):
            y2, x2 = min(r * hs + hc, height), min(c * ws + wc, width)
            out.append((max(y2 - hc, 0), max(x2 - wc, 0), y2, x2))
    return out


@lru_cache(maxsize=64)
def _resize_matrix_cpu(n_in: int, n_out: int) -> Tensor:
    eye = torch.eye(n_in).unsqueeze(0)
    return F.interpolate(eye, size=n_out, mode='linear', align_corners=False)[0]


def resize_matrix(n_in: int, n_out: int, device, dtype=torch.float32) -> Tensor:
    """(n_in, n_out) matrix M with ``x @ M`` = 1-D linear resize (align_corners=False) of x."""
    return _resize_matrix_cpu(n_in, n_out).to(device=device, dtype=dtype)


def grid_to_window(n_grid: int, length: int, patch: int, pad: str, device) -> Tensor:
    """(n_grid, length) matrix mapping patch-grid logits to a window's pixels, bilinearly.

    ``'corner'``: upsample to n_grid·p and keep the first ``length`` pixels; ``'even'``: keep the
    pixels after the top/left padding (ClearCLIP); ``'drop'``: stretch the grid over the window
    (SCLIP, NACLIP); ``'corner_stretch'``: stretch the grid of the bottom/right-padded window over
    the unpadded window (MaskCLIP's mmseg code: padding inside the backbone, then a resize to the
    input size); ``'even_stretch'``: stretch the grid over the window padded evenly to a multiple
    of ``patch`` (the pad unit), keep the unpadded pixels (ProxyCLIP, CorrCLIP)."""
    if pad in ('drop', 'corner_stretch'):
        return resize_matrix(n_grid, length, device)
    if pad == 'even_stretch':
        padded = length + (-length) % patch
        start = (padded - length) // 2
        return resize_matrix(n_grid, padded, device)[:, start:start + length]
    up = resize_matrix(n_grid, n_grid * patch, device)
    start = ((-length) % patch) // 2 if pad == 'even' else 0
    return up[:, start:start + length]
