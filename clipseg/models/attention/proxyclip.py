"""ProxyCLIP (Lan et al., ECCV 2024): a vision foundation model's feature affinities replace the
attention of CLIP's last block."""
from typing import Tuple

import torch
from torch import Tensor, nn

from mmseg.registry import MODELS
from .base import LastBlockAttention, cosine_affinity, value_path, values_on_grid


def proxy_attention(feats: Tensor, beta: float = 1.2, gamma: float = 3.0,
                    mean_over: str = 'image') -> Tensor:
    """(B, C, h, w) proxy features → (B, hw, hw) attention: ProxyCLIP Eq. 4, softmax over n of
    γ(cos(f_m, f_n) − β·mean cos), pairs below β·mean (the image's mean over all pairs) masked.
    A row with every pair masked (near-uniform features, e.g. a blank crop, where the authors'
    code gives NaN) keeps its most similar pair. ``mean_over='batch'``: one mean over all the
    crops of the batch (Trident, which batches the windows of one image)."""
    s = cosine_affinity(feats.flatten(2).transpose(1, 2))
    mean = s.mean() if mean_over == 'batch' else s.mean(dim=(1, 2), keepdim=True)
    s = gamma * (s - beta * mean)
    masked = (s < 0) & (s < s.amax(dim=-1, keepdim=True))
    return torch.softmax(s.masked_fill(masked, float('-inf')), dim=-1)


@MODELS.register_module()
class ProxyCLIPAttention(LastBlockAttention):
    """ProxyCLIP's last block: the value path of ``ln_1(x)`` (no CLS), resized bilinearly to the
    proxy's grid, pooled with ``proxy_attention`` of the proxy's last-layer features (``'x'``),
    then the output projection alone (no residual, no MLP). Needs a ``proxy`` in the adapter."""
    short_name = 'proxyclip'
    tower = True
    guide = 'x'
    keep_residual = keep_ffn = False

    def __init__(self, beta: float = 1.2, gamma: float = 3.0, mean_over: str = 'image'):
        super().__init__()
        if mean_over not in ('image', 'batch'):
            raise ValueError(f"mean_over must be 'image' or 'batch' (Trident), got {mean_over!r}")
        self.beta, self.gamma, self.mean_over = float(beta), float(gamma), mean_over

    def run_guided(self, visual: nn.Module, x: Tensor, grid: Tuple[int, int], guide: Tensor
                   ) -> Tuple[Tensor, Tuple[int, int]]:
        *blocks, last = visual.transformer.resblocks
        for block in blocks:
            x = block(x)
        size = tuple(guide.shape[-2:])
        v = values_on_grid(value_path(last, x), grid, size)
        attn = proxy_attention(guide.to(v.dtype), self.beta, self.gamma, self.mean_over)
        out = last.attn.out_proj(attn @ v)
        return torch.cat([out.new_zeros(out.shape[0], 1, out.shape[2]), out], dim=1), size
