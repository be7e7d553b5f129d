"""SCLIP correlative self-attention (Wang et al., ECCV 2024, Eq. 5): softmax(q qᵀ) + softmax(k kᵀ)."""
import torch.nn.functional as F

from mmseg.registry import MODELS
from .base import LastBlockAttention


@MODELS.register_module()
class SCLIPAttention(LastBlockAttention):
    """(softmax(q qᵀ/√d) + softmax(k kᵀ/√d)) v, computed as two fused attentions; residual and FFN
    are kept as in the reference implementation."""
    short_name = 'sclip'

    def forward(self, q, k, v, grid):
        return (F.scaled_dot_product_attention(q, q, v)
                + F.scaled_dot_product_attention(k, k, v))
