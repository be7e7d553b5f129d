"""CorrCLIP (Zhang et al., ICCV 2025): DINO patch correlations kept within class-agnostic regions
replace the attention of CLIP's last block, plus a spatial branch (mean of middle layers) and a
semantic branch (one mask token per region)."""
import contextlib
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..masks.base import resize_ids
from .base import LastBlockAttention, value_path, values_on_grid

SPATIAL_LAYERS = {12: 5, 24: 12, 32: 28}   # transformer.py:528-539, else depth - 4


def merge_regions(feats: Tensor, regions: Tensor, eps: float = 0.2) -> Tensor:
    """Regions whose mean features lie within cosine distance ``eps`` of each other (through
    chains: DBSCAN with one sample per core, CorrCLIP transformer.py:545-562) become one.
    ``feats`` (N, C) unit, ``regions`` (N,) ids → (N,) ids; the smallest id (the unsegmented
    rest) is kept as is, and merging needs at least two other regions."""
    ids = torch.unique(regions)
    if len(ids) <= 2:
        return regions
    means = torch.stack([feats[regions == v].mean(0) for v in ids[1:]])
    means = F.normalize(means, dim=-1)
    sim = means @ means.t()
    near = (sim.max() - sim) <= eps
    label = [-1] * len(means)
    for start in range(len(means)):        # connected components, numbered in index order
        if label[start] >= 0:
            continue
        label[start], stack = start, [start]
        while stack:
            i = stack.pop()
            for j in torch.nonzero(near[i]).flatten().tolist():
                if label[j] < 0:
                    label[j] = start
                    stack.append(j)
    out = regions.clone()
    for v, lab in zip(ids[1:].tolist(), label):
        out[regions == v] = int(ids[0]) + 1 + lab
    return out


def region_attention(feats: Tensor, regions: Tensor, tau: float = 4.0) -> Tensor:
    """(N, C) unit DINO features, (N,) merged ids → (N, N) attention: CorrCLIP's scope, softmax
    of τ·cos(f_i, f_j) over j in i's region, or, where i or j lies in the unsegmented rest (the
    smallest id), over pairs above the crop's mean similarity (transformer.py:565-578). A patch
    always sees itself (changes only uniform crops, where the authors' rows are all masked: NaN)."""
    s = feats @ feats.t()
    rest = regions == regions.min()
    same = (regions[:, None] == regions[None, :]) & ~rest[:, None]
    allow = same | ((rest[:, None] | rest[None, :]) & (s > s.mean()))
    allow |= torch.eye(len(s), dtype=torch.bool, device=s.device)
    return torch.softmax((tau * s).masked_fill(~allow, float('-inf')), dim=-1)


def region_token_step(block: nn.Module, tokens: Tensor, x: Tensor, allow: Tensor) -> Tensor:
    """One block for the region tokens (B, R, C): each attends to the CLS token and its region's
    patches of the block input ``x`` (B, 1 + T, C), as allowed by ``allow`` (B, R, 1 + T), then
    the residual and the MLP (CorrCLIP's masked sequence, the patches never see these tokens)."""
    attn = block.attn
    B, R, C = tokens.shape
    H = attn.num_heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = F.linear(block.ln_1(tokens), w[:C], None if b is None else b[:C])
    kv = F.linear(block.ln_1(x), w[C:], None if b is None else b[C:])
    k, v = kv.chunk(2, dim=-1)
    split = lambda t: t.reshape(B, t.shape[1], H, C // H).transpose(1, 2)  # noqa: E731
    mask = torch.zeros(allow.shape, dtype=q.dtype, device=q.device).masked_fill(~allow, float('-inf'))
    out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask[:, None])
    out = attn.out_proj(out.transpose(1, 2).reshape(B, R, C))
    tokens = tokens + block.ls_1(out)
    return tokens + block.ls_2(block.mlp(block.ln_2(tokens)))


@MODELS.register_module()
class CorrCLIPAttention(LastBlockAttention):
    """CorrCLIP's tower: needs a DINO proxy (``'q+k'`` of its last block, L2-normalised) and a
    region map per crop (the segmentor's ``mask_source``). Outputs, on the proxy grid,
    ln_post(main) + ``spatial_weight``·ln_post(spatial) + ``semantic_weight``·ln_post(semantic):
    the last block's values of the penultimate output / of the mean of the middle layers pooled
    by ``region_attention`` of the merged regions, and each patch's region token."""
    short_name = 'corrclip'
    tower = True
    guide = 'q+k'
    needs_regions = True
    normed_output = True          # ln_post applied per branch: the adapter skips its own
    keep_residual = keep_ffn = False

    def __init__(self, tau: float = 4.0, merge_eps: float = 0.2, spatial_weight: float = 1.0,
                 semantic_weight: float = 0.5, spatial_layers=None):
        super().__init__()
        self.tau, self.merge_eps = float(tau), float(merge_eps)
        self.spatial_weight, self.semantic_weight = float(spatial_weight), float(semantic_weight)
        self.spatial_layers = spatial_layers
        self._regions = None

    @contextlib.contextmanager
    def region_context(self, regions: Tensor):
        """(N, hc, wc) region ids of the crops the next forward sees (the segmentor sets them)."""
        self._regions = regions
        try:
            yield
        finally:
            self._regions = None

    def take_regions(self) -> Tensor:
        if self._regions is None:
            raise RuntimeError('CorrCLIP needs region masks: set model.mask_source (e.g. '
                               'dict(type=\'FolderMasks\', root=...) or SAM2Masks)')
        return self._regions

    def run_guided(self, visual: nn.Module, x: Tensor, grid: Tuple[int, int], guide: Tensor,
                   regions: Tensor = None) -> Tuple[Tensor, Tuple[int, int]]:
        *blocks, last = visual.transformer.resblocks
        depth = len(blocks) + 1
        n_sp = self.spatial_layers or SPATIAL_LAYERS.get(depth, depth - 4)
        B = x.shape[0]
        size = tuple(guide.shape[-2:])
        feats = F.normalize(guide.float().flatten(2).transpose(1, 2), dim=-1)   # (B, N', C')
        attn, allow, cells = [], [], []
        for b in range(B):
            at_feat = resize_ids(regions[b], size).flatten()                     # top-left pixels
            merged = merge_regions(feats[b], at_feat, self.merge_eps)
            attn.append(region_attention(feats[b], merged, self.tau))
            at_clip = resize_ids(merged.view(size), grid)
            ids = torch.unique(at_clip)
            member = at_clip.flatten()[None] == ids[:, None]                  # (R, T) at CLIP grid
            allow.append(torch.cat([torch.ones_like(member[:, :1]), member], dim=1))
            back = resize_ids(at_clip, size).flatten()                           # CLIP grid → proxy grid
            cells.append((back[None] == ids[:, None]).to(x.dtype))            # (R, N')
        R = max(a.shape[0] for a in allow)
        allow = torch.stack([F.pad(a, (0, 0, 0, R - a.shape[0])) for a in allow])
        allow[:, :, 0] = True                                                 # padding rows: CLS only
        tokens = x[:, :1].expand(B, R, -1)
        spatial: List[Tensor] = []
        for i, block in enumerate(blocks):
            tokens = region_token_step(block, tokens, x, allow)
            x = block(x)
            if depth - 2 - n_sp <= i <= depth - 3:
                spatial.append(x)
        tokens = region_token_step(last, tokens, x, allow)
        both = torch.cat([x, torch.stack(spatial).mean(0)])
        v = values_on_grid(value_path(last, both), grid, size)                # (2B, N', C)
        attn = torch.stack(attn).to(v.dtype)
        pooled = last.attn.out_proj(torch.cat([attn, attn]) @ v)
        semantic = torch.stack([c.t() @ t[:c.shape[0]] for c, t in zip(cells, tokens)])
        out = (visual.ln_post(pooled[:B]) + self.spatial_weight * visual.ln_post(pooled[B:])
               + self.semantic_weight * visual.ln_post(semantic))
        return torch.cat([out.new_zeros(B, 1, out.shape[2]), out], dim=1), size
