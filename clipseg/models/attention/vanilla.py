"""Plain CLIP attention in the last block: softmax(q kᵀ / √d) v (Radford et al., 2021)."""
import torch.nn.functional as F

from mmseg.registry import MODELS
from .base import LastBlockAttention


@MODELS.register_module()
class VanillaAttention(LastBlockAttention):
    """The unmodified last block; the baseline row of every zero-shot table."""
    short_name = 'vanilla'

    def forward(self, q, k, v, grid):
        return F.scaled_dot_product_attention(q, k, v)
