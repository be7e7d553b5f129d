"""RF-CLIP (AAAI 2026, "Target Refocusing via Attention Redistribution for Open-Vocabulary
Semantic Segmentation"), image side as released (liblacklucy/RF-CLIP @c2b333e ``clip/model.py``):
distractor tokens smoothed after every block, a patch graph from the mean of all block outputs,
and a last block that reads out with key-key attention averaged over every layer."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .base import LastBlockAttention, cosine_affinity, project_heads, qkv_heads

# the channels where CLIP's distractor tokens peak, per tower width (clip/model.py:212-213)
DISTRACTION_DIMS = {768: (4, 162, 189, 326, 429, 474, 633, 713),        # ViT-B/16
                    1024: (250, 261, 437, 650, 720, 779, 936, 1005)}   # ViT-L/14


def smooth_distractors(x: Tensor, grid, dims: Sequence[int], sigma: float, alpha: float) -> Tensor:
    """(B, 1 + N, C) tokens → the same with distractor patch tokens smoothed (``:212-240``): a patch
    token f is a distractor when max over ``dims`` of (f − min f) / Σ(f − min f) exceeds σ / C; it
    becomes (1 − α) f + α · box3×3(f) (zero padding, always / 9). The CLS token is left alone."""
    cls, patches = x[:, :1], x[:, 1:]
    B, N, C = patches.shape
    shifted = patches - patches.amin(dim=-1, keepdim=True)
    share = shifted / shifted.sum(dim=-1, keepdim=True).clamp(min=1e-8)
    distractor = share[..., list(dims)].amax(dim=-1, keepdim=True) > sigma / C     # (B, N, 1)
    if not bool(distractor.any()):
        return x
    box = F.avg_pool2d(patches.transpose(1, 2).reshape(B, C, *grid), 3, stride=1, padding=1,
                       count_include_pad=True).flatten(2).transpose(1, 2)
    smoothed = (1 - alpha) * patches + alpha * box
    return torch.cat([cls, torch.where(distractor, smoothed, patches)], dim=1)


def redistribute(attn: Tensor, threshold: float, beta: float) -> Tensor:
    """The paper's attention redistribution (``:142-157``, off in the release), (B, H, 1+N, 1+N):
    a patch column whose attention from patch rows, summed and divided by 1 + N, exceeds
    ``threshold`` is a sink; patch rows keep β of their sink weights and give the rest to the
    other patch columns in proportion to their weights. CLS row and column are left alone."""
    out = attn.clone()
    pp = out[..., 1:, 1:]
    sink = (pp.sum(dim=-2, keepdim=True) / attn.shape[-1]) > threshold          # (B, H, 1, N)
    removed = (pp * sink).sum(dim=-1, keepdim=True) * (1 - beta)
    rest = pp * ~sink
    pp.copy_(torch.where(sink, pp * beta, pp + removed * rest / (rest.sum(-1, keepdim=True) + 1e-8)))
    return out


@MODELS.register_module()
class RFCLIPAttention(LastBlockAttention):
    """RF-CLIP's tower. Blocks 1..L run as CLIP's (q-k attention, FFN; with ``refocus=True`` the
    paper's redistribution in blocks 1..L-1), each output followed by distractor smoothing; the
    CLS token of block L is the global token. G = mean of the L block outputs, S = cos(G_i, G_j)
    with entries < ``graph_cut`` zeroed (not normalised). The dense tokens are
    ½ [Dec(S · x_{L-1}) + Dec(S · G)], Dec(u) = W_o Ā V(u) on patches, Ā = mean over the L layers
    of softmax(K Kᵀ/√d) restricted to patches (the last layer's from u), no residual, no FFN.

    ``distraction_dims``: the authors' channels for widths 768 (ViT-B/16) and 1024 (ViT-L/14);
    any other tower needs its own."""
    short_name = 'rfclip'
    tower = True
    global_token = True     # the first returned token is block L's CLS (the global embedding)

    def __init__(self, distraction_dims: Optional[Sequence[int]] = None, sigma: float = 5.0,
                 alpha: float = 0.4, graph_cut: float = 0.4, refocus: bool = False,
                 refocus_threshold: float = 0.1, refocus_beta: float = 0.6):
        super().__init__()
        self.distraction_dims = None if distraction_dims is None else tuple(distraction_dims)
        self.sigma, self.alpha, self.graph_cut = sigma, alpha, graph_cut
        self.refocus, self.refocus_threshold, self.refocus_beta = refocus, refocus_threshold, refocus_beta

    def dims_for(self, width: int) -> Sequence[int]:
        dims = self.distraction_dims or DISTRACTION_DIMS.get(width)
        if dims is None:
            raise ValueError(f'RF-CLIP knows the distractor channels of ViT-B/16 and ViT-L/14 '
                             f'(widths {sorted(DISTRACTION_DIMS)}), not of a width-{width} tower: '
                             'give attention=dict(type=\'RFCLIPAttention\', distraction_dims=...)')
        if max(dims) >= width:
            raise ValueError(f'distraction_dims {tuple(dims)} exceed the tower width {width}')
        return dims

    def decode(self, block, u: Tensor, kk_sum: Tensor, layers: int) -> Tensor:
        """Dec(u): (B, 1+N, C) → (B, N, C) patch tokens."""
        q, k, v = qkv_heads(block, u)
        kk = F.softmax(k @ k.transpose(-1, -2) * k.shape[-1] ** -0.5, dim=-1)[..., 1:, 1:]
        return project_heads(block, ((kk_sum + kk) / layers) @ v[..., 1:, :])

    def run_tower(self, visual, x, grid):
        blocks = visual.transformer.resblocks
        dims = self.dims_for(x.shape[-1])
        smooth = lambda t: smooth_distractors(t, grid, dims, self.sigma, self.alpha)  # noqa: E731
        kk_sum, guide_sum = 0, 0
        for block in blocks[:-1]:
            q, k, v = qkv_heads(block, x)
            scale = k.shape[-1] ** -0.5
            attn = F.softmax(q @ k.transpose(-1, -2) * scale, dim=-1)
            if self.refocus:
                attn = redistribute(attn, self.refocus_threshold, self.refocus_beta)
            kk_sum = kk_sum + F.softmax(k @ k.transpose(-1, -2) * scale, dim=-1)[..., 1:, 1:]
            x = x + project_heads(block, attn @ v)
            x = smooth(x + block.ls_2(block.mlp(block.ln_2(x))))
            guide_sum = guide_sum + x
        last = smooth(blocks[-1](x))
        guide = (guide_sum + last) / len(blocks)
        graph = cosine_affinity(guide[:, 1:])
        graph = torch.where(graph < self.graph_cut, torch.zeros_like(graph), graph)
        dec_x = self.decode(blocks[-1], torch.cat([x[:, :1], graph @ x[:, 1:]], 1), kk_sum, len(blocks))
        dec_g = self.decode(blocks[-1], torch.cat([guide[:, :1], graph @ guide[:, 1:]], 1), kk_sum,
                            len(blocks))
        return torch.cat([last[:, :1], (dec_x + dec_g) / 2], dim=1)
