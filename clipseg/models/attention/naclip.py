"""NACLIP (Hajimiri et al., WACV 2025, Eq. 6-8): k-k attention plus a Gaussian neighbourhood prior."""
from functools import lru_cache
from typing import Tuple

import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from .base import LastBlockAttention


@lru_cache(maxsize=32)
def gaussian_neighbourhood(grid: Tuple[int, int], std: float, prefix: int = 1) -> torch.Tensor:
    """(P + h*w, P + h*w) additive logits exp(-‖p_i - p_j‖² / 2σ²) between patch positions;
    the rows and columns of the P prefix tokens (CLS; none on SigLIP) are zero. Computed once per
    (grid, σ, P) and shared (NACLIP, ResCLIP's NACLIP host): callers must not modify it."""
    h, w = grid
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32),
                            torch.arange(w, dtype=torch.float32), indexing='ij')
    pos = torch.stack([ys.flatten(), xs.flatten()], dim=1)
    omega = torch.exp(-torch.cdist(pos, pos).pow(2) / (2 * std ** 2))
    return F.pad(omega, (prefix, 0, prefix, 0))


@MODELS.register_module()
class NACLIPAttention(LastBlockAttention):
    """softmax(k kᵀ/√d + Ω) v with Ω a Gaussian window (σ = 5 patches by default); the reduced
    architecture: no residual, no FFN."""
    short_name = 'naclip'
    keep_residual = False
    keep_ffn = False

    def __init__(self, std: float = 5.0):
        super().__init__()
        if std <= 0:
            raise ValueError(f'NACLIP Gaussian std must be positive, got {std}')
        self.std = std

    def forward(self, q, k, v, grid):
        omega = gaussian_neighbourhood(tuple(grid), self.std, k.shape[-2] - grid[0] * grid[1])
        omega = omega.to(device=k.device, dtype=k.dtype)
        return F.scaled_dot_product_attention(k, k, v, attn_mask=omega)
