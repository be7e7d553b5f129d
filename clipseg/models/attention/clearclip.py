"""ClearCLIP (Lan et al., ECCV 2024): q-q attention, no residual, no FFN in the last block."""
import torch.nn.functional as F

from mmseg.registry import MODELS
from .base import LastBlockAttention


@MODELS.register_module()
class ClearCLIPAttention(LastBlockAttention):
    """softmax(q qᵀ/√d) v; the block returns the attention output alone (Sec. 3.3)."""
    short_name = 'clearclip'
    keep_residual = False
    keep_ffn = False

    def forward(self, q, k, v, grid):
        return F.scaled_dot_product_attention(q, q, v)
