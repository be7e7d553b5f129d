"""MaskCLIP (Zhou et al., ECCV 2022, Sec. 3.2): the last block keeps only its value path."""
from mmseg.registry import MODELS
from .base import LastBlockAttention


@MODELS.register_module()
class MaskCLIPAttention(LastBlockAttention):
    """Each token's output is its own value: no query-key mixing. Residual and FFN are kept, as in
    the reference ViT implementation; on ResNet it is attnpool's v_proj + c_proj as 1×1 convs."""
    short_name = 'maskclip'
    value_only = True

    def forward(self, q, k, v, grid):
        return v
