"""SC-CLIP (Bai et al., "Self-Calibrated CLIP for Training-Free Open-Vocabulary Segmentation"):
anomaly tokens repaired, tokens aggregated by intermediate-layer affinities, a last block steered by
those affinities, and a multi-level branch (SuleBai/SC-CLIP ``clip/model.py:208-373``)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from .base import LastBlockAttention, cosine_affinity, project_heads, qkv_heads


def lof_outliers(tokens: Tensor, neighbours: int = 30, fraction: float = 0.05) -> Tensor:
    """(B, N, C) tokens → (B, N) bool: local outlier factor above its (1 - fraction) quantile.

    The authors' LOF (``clip/model.py:208-227``): squared Euclidean distances, and the reach
    distance of i to a neighbour is max(d_ij, k-distance of i), so lrd_i = 1 / k-distance_i and
    LOF_i = mean over the k neighbours j of lrd_j / lrd_i (not scikit-learn's LOF, which uses the
    neighbour's k-distance and flags another set)."""
    k = min(neighbours, tokens.shape[1] - 1)
    dist = torch.cdist(tokens, tokens, compute_mode='donot_use_mm_for_euclid_dist').pow(2)
    knn_dist, knn_idx = dist.topk(k + 1, dim=-1, largest=False)
    knn_dist, knn_idx = knn_dist[..., 1:], knn_idx[..., 1:]            # drop the token itself
    reach = torch.maximum(knn_dist, knn_dist[..., -1:])
    lrd = k / torch.nan_to_num(reach.mean(dim=-1), nan=1e-6)           # (B, N)
    lof = (torch.gather(lrd[:, None].expand(-1, lrd.shape[1], -1), 2, knn_idx)
           / lrd[..., None]).mean(dim=-1)
    thr = torch.quantile(lof.float(), 1 - fraction, dim=-1, keepdim=True)
    return lof > thr


def repair_tokens(tokens: Tensor, outliers: Tensor, grid: Tuple[int, int]) -> Tensor:
    """(B, N, C) patch tokens on ``grid``: each outlier becomes the mean of its 3×3 neighbours that
    lie in the grid and are not outliers (left as it is when none is); ``clip/model.py:348-373``
    with the flat index mapped to (row, column) by the column count (the authors divide by the row
    count, ``:275``, the same on their square 224 windows and wrong on any other grid)."""
    B, N, C = tokens.shape
    h, w = grid
    fmap = tokens.transpose(1, 2).reshape(B, C, h, w)
    keep = (~outliers).to(tokens.dtype).view(B, 1, h, w)
    ring = torch.ones(1, 1, 3, 3, dtype=tokens.dtype, device=tokens.device)
    ring[..., 1, 1] = 0
    sums = F.conv2d((fmap * keep).reshape(B * C, 1, h, w), ring, padding=1).view(B, C, h, w)
    count = F.conv2d(keep, ring, padding=1)
    update = outliers.view(B, 1, h, w) & (count > 0)
    fmap = torch.where(update, sums / count.clamp(min=1), fmap)
    return fmap.flatten(2).transpose(1, 2)


def aggregate(tokens: Tensor, affinity: Tensor, beta: float) -> Tensor:
    """(B, N, C) tokens mixed by a cosine affinity (B, N, N) whose entries below ``beta`` are
    zeroed, rows normalised to sum 1 (``adaptively_aggregate``, ``clip/model.py:343-346``)."""
    a = torch.where(affinity < beta, torch.zeros_like(affinity), affinity)
    return (a / (a.sum(dim=-1, keepdim=True) + 1e-6)) @ tokens


@MODELS.register_module()
class SCCLIPAttention(LastBlockAttention):
    """SC-CLIP on an open_clip ViT (defaults: the authors' ``base_config.py`` for ViT-B/16).

    Blocks 1..L-1 run unchanged (hidden states h_i, 0-based). The patch tokens of h_{L-2} are
    repaired at their LOF outliers; A_pre = affinity of the repaired h_{pre} tokens and A_post of
    the h_{post} tokens (entries < ``beta`` zeroed, rows normalised). Last block, attention only:
    Attn(T) = W_o ½[softmax(3 (S_pre − mean S_pre), < 0 → −∞) + softmax(K Kᵀ/√d)] V of ln_1(T).
    Output Y = A_post (Attn(A_pre · repaired) + r·cls(h_{L-2}))
             + A_post (Attn(Σ_{i=start}^{end-1} h_i) + r·cls(Σ h_i)), r = ``res_cls``.
    """
    short_name = 'scclip'
    tower = True

    def __init__(self, pre_adjust_idx: int = 8, post_adjust_idx: int = 3, multi_start_idx: int = 3,
                 multi_end_idx: int = 10, res_cls: float = 0.3, beta: float = 0.4,
                 lof_neighbours: int = 30, lof_fraction: float = 0.05,
                 prior_temperature: float = 3.0):
        super().__init__()
        if not 0 < lof_fraction < 1:
            raise ValueError(f'lof_fraction must lie in (0, 1), got {lof_fraction}')
        self.pre_adjust_idx, self.post_adjust_idx = pre_adjust_idx, post_adjust_idx
        self.multi = (multi_start_idx, multi_end_idx)
        self.res_cls, self.beta = res_cls, beta
        self.lof_neighbours, self.lof_fraction = lof_neighbours, lof_fraction
        self.prior_temperature = prior_temperature

    def check_depth(self, depth: int) -> None:
        need = max(self.pre_adjust_idx, self.post_adjust_idx, self.multi[1] - 1) + 2
        if depth < need:
            raise ValueError(f'SC-CLIP with layers {self.pre_adjust_idx}/{self.post_adjust_idx}/'
                             f'{self.multi} needs a ViT of at least {need} blocks, got {depth}; '
                             'set pre_adjust_idx/post_adjust_idx/multi_*_idx for this tower')

    def last_attention(self, block: nn.Module, tokens: Tensor, prior: Tensor) -> Tensor:
        """The last block's attention on patch tokens (B, N, C), steered by ``prior`` (B, N, N)."""
        q, k, v = qkv_heads(block, tokens)
        attn = F.softmax(prior, dim=-1)[:, None] + F.softmax(
            k @ k.transpose(-1, -2) * k.shape[-1] ** -0.5, dim=-1)
        return project_heads(block, (attn / 2) @ v)

    def run_tower(self, visual, x, grid):
        blocks = visual.transformer.resblocks
        self.check_depth(len(blocks))
        hidden = []
        for block in blocks[:-1]:
            x = block(x)
            hidden.append(x)
        cls = x[:, :1]
        outliers = lof_outliers(x[:, 1:], self.lof_neighbours, self.lof_fraction)
        tokens = repair_tokens(x[:, 1:], outliers, grid)
        pre = cosine_affinity(repair_tokens(hidden[self.pre_adjust_idx][:, 1:], outliers, grid))
        tokens = aggregate(tokens, pre, self.beta)
        prior = (pre - pre.mean(dim=(1, 2), keepdim=True)) * self.prior_temperature
        prior = prior.masked_fill(prior < 0, float('-inf'))
        post = cosine_affinity(hidden[self.post_adjust_idx][:, 1:])
        y = self.last_attention(blocks[-1], tokens, prior) + self.res_cls * cls
        y = aggregate(y, post, self.beta)
        multi = torch.stack(hidden[self.multi[0]:self.multi[1]]).sum(dim=0)
        z = self.last_attention(blocks[-1], multi[:, 1:], prior) + self.res_cls * multi[:, :1]
        y = y + aggregate(z, post, self.beta)
        return torch.cat([cls, y], dim=1)
