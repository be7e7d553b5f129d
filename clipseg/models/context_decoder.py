"""DenseCLIP's context decoder (Rao et al., CVPR 2022, Sec. 3.3, Eq. 5-6): text embeddings attend to
the image's visual tokens, and the result is added back scaled by a learnable γ."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS


class Attention(nn.Module):
    """Multi-head attention as DenseCLIP's decoder has it: q/k/v projections without bias, an
    output projection with bias, dropout on the output. q (B, N, C), k = v (B, M, C) → (B, N, C)."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(width, width, bias=False)
        self.k_proj = nn.Linear(width, width, bias=False)
        self.v_proj = nn.Linear(width, width, bias=False)
        self.proj = nn.Linear(width, width)
        self.drop = nn.Dropout(dropout)

    def forward(self, q: Tensor, kv: Tensor) -> Tensor:
        B, N, C = q.shape
        split = lambda x: x.reshape(B, x.shape[1], self.heads, C // self.heads).transpose(1, 2)  # noqa: E731
        out = F.scaled_dot_product_attention(split(self.q_proj(q)), split(self.k_proj(kv)),
                                             split(self.v_proj(kv)))
        return self.drop(self.proj(out.transpose(1, 2).reshape(B, N, C)))


class DecoderLayer(nn.Module):
    """Pre-norm transformer decoder layer: self-attention, cross-attention to memory, MLP."""

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(width), nn.LayerNorm(width), nn.LayerNorm(width)
        self.self_attn = Attention(width, heads, dropout)
        self.cross_attn = Attention(width, heads, dropout)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(4 * width, width))
        self.drop3 = nn.Dropout(dropout)

    def forward(self, x: Tensor, memory: Tensor) -> Tensor:
        y = self.norm1(x)
        x = x + self.self_attn(y, y)
        x = x + self.cross_attn(self.norm2(x), memory)
        return x + self.drop3(self.mlp(self.norm3(x)))


@MODELS.register_module()
class ContextDecoder(nn.Module):
    """``forward(text (B, K, C), visual (B, N, C)) → (B, K, C)``: t + γ · Decoder(t, v).

    Visual tokens are [global, dense...] in CLIP's embedding width C; the decoder runs at
    ``width`` (256) with ``heads`` (4) and ``layers`` (3); γ (one per channel) starts at 1e-4.
    """

    def __init__(self, visual_dim: int = 1024, width: int = 256, heads: int = 4, layers: int = 3,
                 dropout: float = 0.1, gamma_init: float = 1e-4):
        super().__init__()
        self.memory_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, width),
                                         nn.LayerNorm(width))
        self.text_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, width))
        self.layers = nn.ModuleList(DecoderLayer(width, heads, dropout) for _ in range(layers))
        self.out_proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, visual_dim))
        self.gamma = nn.Parameter(torch.full((visual_dim,), gamma_init))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, text: Tensor, visual: Tensor) -> Tensor:
        memory = self.memory_proj(visual)
        x = self.text_proj(text)
        for layer in self.layers:
            x = layer(x, memory)
        return text + self.gamma * self.out_proj(x)
