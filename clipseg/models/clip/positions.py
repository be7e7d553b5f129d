"""Positional embeddings of CLIP towers at other grids: resized for an input (per forward) or
once, at build time, to a grid that is then trained (DenseCLIP's ``pos_grid``)."""
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


POS_RESIZE = ('exact', 'dino', 'bilinear')


def resize_pos_embed(pos_embed: Tensor, src_grid: Tuple[int, int], dst_grid: Tuple[int, int],
                     mode: str = 'exact') -> Tensor:
    """Bicubic resize of a (1 + h*w, C) positional embedding from ``src_grid`` to ``dst_grid``.

    ``'exact'``: to the target size (MaskCLIP, mmseg). ``'dino'``: with the scale factor
    (h + 0.1) / h_src, as DINO's ``interpolate_pos_encoding`` and SCLIP/NACLIP/ClearCLIP do.
    ``'bilinear'``: bilinear to the target size (DenseCLIP)."""
    if tuple(src_grid) == tuple(dst_grid):
        return pos_embed
    cls_pos, patch_pos = pos_embed[:1], pos_embed[1:]
    patch_pos = patch_pos.reshape(1, *src_grid, -1).permute(0, 3, 1, 2)
    if mode == 'dino':
        scale = tuple((d + 0.1) / s for d, s in zip(dst_grid, src_grid))
        patch_pos = F.interpolate(patch_pos.float(), scale_factor=scale, mode='bicubic',
                                  align_corners=False)
        assert tuple(patch_pos.shape[-2:]) == tuple(dst_grid)
    else:
        patch_pos = F.interpolate(patch_pos.float(), size=dst_grid,
                                  mode='bilinear' if mode == 'bilinear' else 'bicubic', align_corners=False)
    patch_pos = patch_pos.to(pos_embed.dtype).permute(0, 2, 3, 1).reshape(-1, pos_embed.shape[-1])
    return torch.cat([cls_pos, patch_pos], dim=0)


def retrain_grid(pos_embed: nn.Parameter, grid: int) -> nn.Parameter:
    """DenseCLIP: resize a (1 + h*w, C) positional embedding once, bilinearly, to ``grid`` × ``grid``
    (the training crop's grid) and train it there."""
    side = int(math.isqrt(pos_embed.shape[0] - 1))
    return nn.Parameter(resize_pos_embed(pos_embed.detach(), (side, side), (grid, grid), 'bilinear'))


def set_trained_grid(visual: nn.Module, grid: int) -> None:
    """DenseCLIP: the tower is built with its positional embedding (ViT: ``positional_embedding``;
    ModifiedResNet: ``attnpool.positional_embedding``) resized to ``grid`` × ``grid`` and trained
    there. Part of building the tower (``create_clip(pos_grid=...)``), as open_clip's
    ``force_image_size`` resizes it at creation; adapters never replace it."""
    owner = visual.attnpool if hasattr(visual, 'attnpool') else visual
    owner.positional_embedding = retrain_grid(owner.positional_embedding, grid)


def check_grid(pos_embed: Tensor, pos_grid) -> None:
    """An adapter given a built tower with ``pos_grid`` set: the tower must already have that
    grid (it is applied when the tower is built, never by the adapter)."""
    side = int(math.isqrt(pos_embed.shape[0] - 1))
    if pos_grid is not None and side != pos_grid:
        raise TypeError(f'pos_grid={pos_grid} but the given tower has a {side}×{side} grid: pos_grid '
                        'is applied when the tower is built (create_clip(..., pos_grid=...))')
