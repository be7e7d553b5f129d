"""Windows' patch-grid logits → an image's logits at any output size, as pure functions.

Upsampling each window's grid to the window (bilinear), averaging overlapping windows and
resizing the image to the output size are all linear and separable: every window contributes
Gyᵀ L Gx (Gy: its grid rows → output rows, Gx: grid columns → output columns). ``stitch`` folds
them into two matrices, ``stitched_rows`` evaluates any band of output rows as one product, so no
(Q, H, W) map is ever built per window, and bands bound the memory of any output size.
"""
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor

from .windows import grid_to_window, resize_matrix


class Window(NamedTuple):
    """One window of an image: its box (y1, x1, y2, x2) and (Q, gh, gw) grid logits."""
    box: Tuple[int, int, int, int]
    logits: Tensor


class Stitch(NamedTuple):
    """Separable form of an image's stitched logits: rows = gyᵀ @ parts (see ``stitch``)."""
    gy: Tensor          # (G, H_out): all windows' grid rows → output rows
    parts: Tensor       # (G, W_out * Q): grid rows already mapped to output columns
    num_queries: int


def stitch(windows: List[Window], image_hw: Tuple[int, int], out_shape: Tuple[int, int],
           patch_size: Tuple[int, int], pad_mode: str,
           valid_hw: Optional[Tuple[int, int]] = None) -> Stitch:
    """The exact, separable form of: upsample every window's grid logits to the window (as
    ``grid_to_window`` with ``pad_mode``), average overlapping windows, resize the image to
    ``out_shape``. ``valid_hw``: the part of the image that is not padding; only it is resized."""
    (H, W), (Ho, Wo) = image_hw, out_shape
    h, w = valid_hw or image_hw
    device = windows[0].logits.device
    ph, pw = patch_size
    count_y, count_x = torch.zeros(H, device=device), torch.zeros(W, device=device)
    row_spans, col_spans = set(), set()
    for win in windows:
        row_spans.add((win.box[0], win.box[2]))
        col_spans.add((win.box[1], win.box[3]))
    for y1, y2 in row_spans:
        count_y[y1:y2] += 1
    for x1, x2 in col_spans:
        count_x[x1:x2] += 1
    if (count_y == 0).any() or (count_x == 0).any() or \
            len(windows) != len(row_spans) * len(col_spans):
        raise RuntimeError('windows must form a grid covering the image')  # counts separate
    to_out_y = torch.zeros(H, Ho, device=device)                    # (H, Ho): average, resize
    to_out_y[:h] = resize_matrix(h, Ho, device) / count_y[:h, None]
    to_out_x = torch.zeros(W, Wo, device=device)
    to_out_x[:w] = resize_matrix(w, Wo, device) / count_x[:w, None]

    def placed(n_grid, patch, a, b, to_out):
        up = grid_to_window(n_grid, b - a, patch, pad_mode, device)   # (g, b - a)
        return up @ to_out[a:b]                                       # (g, out)

    plan: Dict[Tuple[int, int], List] = {}
    for win in windows:
        y1, x1, y2, x2 = win.box
        gx = placed(win.logits.shape[-1], pw, x1, x2, to_out_x)
        part = torch.einsum('qhw,wx->hxq', win.logits, gx)            # (gh, Wo, Q)
        if (y1, y2) in plan:
            plan[(y1, y2)][1] += part
        else:
            plan[(y1, y2)] = [placed(win.logits.shape[-2], ph, y1, y2, to_out_y), part]
    gy = torch.cat([v[0] for v in plan.values()])                    # (G, Ho)
    parts = torch.cat([v[1] for v in plan.values()])                 # (G, Wo, Q)
    return Stitch(gy, parts.flatten(1), parts.shape[2])


def stitched_rows(plan: Stitch, r0: int, r1: int) -> Tensor:
    """Rows ``r0:r1`` of the stitched logits, (Q, r1 - r0, W_out), as one matrix product."""
    rows = plan.gy[:, r0:r1].t() @ plan.parts                        # (b, Wo * Q)
    return rows.view(rows.shape[0], -1, plan.num_queries).permute(2, 0, 1)
