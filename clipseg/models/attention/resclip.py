"""ResCLIP (Yang et al., CVPR 2025): Residual Cross-correlation Self-attention (RCS) and Semantic
Feedback Refinement (SFR), plug-ins for the last-block attention of NACLIP, SCLIP, ClearCLIP or
vanilla CLIP (yvhangyang/ResCLIP ``clip/model.py:106-290, 313-370, 461-590``)."""
import contextlib
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from ..pamr import PAMR
from .base import LastBlockAttention, project_heads, qkv_heads
from .naclip import gaussian_neighbourhood

HOSTS = ('naclip', 'sclip', 'clearclip', 'vanilla')   # the attention that RCS and SFR modify


def patch_labels(probs: Tensor, patch: int, grid: Tuple[int, int], threshold: float) -> Tensor:
    """(Q, H, W) first-pass probabilities → (h, w) query index per patch: the per-pixel argmax
    (query 0 where the best probability is below ``threshold``), then each patch's most frequent
    label (``create_patch_matrix``, ``clip/model.py:106-126``)."""
    labels = probs.argmax(0)
    labels[probs.max(0).values < threshold] = 0
    h, w = grid
    cells = labels[:h * patch, :w * patch].reshape(h, patch, w, patch).permute(0, 2, 1, 3)
    return torch.mode(cells.reshape(h, w, patch * patch), dim=-1).values


def same_entity(labels: Tensor, rows: int = 64) -> Tuple[Tensor, Tensor]:
    """(h, w) patch labels → (N, N) whether the straight path from patch i to patch j (rounded
    points at a common step count) stays on i's label, and the (N, N) Chebyshev distances
    (``check_path``, ``clip/model.py:130-148``); computed ``rows`` sources at a time."""
    h, w = labels.shape
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    pos = torch.stack([ys.flatten(), xs.flatten()], 1).to(labels.device)            # (N, 2)
    cheb = (pos[:, None] - pos[None]).abs().amax(-1)                                # (N, N)
    steps = int(cheb.max())
    t = torch.linspace(0, 1, steps + 1, device=labels.device).view(1, 1, -1, 1)
    flat = labels.flatten()
    ok = torch.empty_like(cheb, dtype=torch.bool)
    for r0 in range(0, pos.shape[0], rows):
        src = pos[r0:r0 + rows, None, None].float()                                 # (r, 1, 1, 2)
        pts = (src * (1 - t) + pos[None, :, None].float() * t).round().long()        # (r, N, S, 2)
        on = labels[pts[..., 0], pts[..., 1]] == flat[r0:r0 + rows, None, None]
        counted = torch.arange(steps + 1, device=labels.device) <= cheb[r0:r0 + rows, :, None]
        ok[r0:r0 + rows] = (on | ~counted).all(-1)
    return ok, cheb


def feedback_map(labels: Tensor, std: float, delete_same_entity: bool = True) -> Tensor:
    """(h, w) patch labels → (1 + N, 1 + N) SFR attention prior S̃ (``generate_attention_sfr``,
    ``clip/model.py:152-240``, then ``:477-478``): 1 between patches of one label (other entities
    of that label decayed by exp(−Chebyshev distance / its maximum)), each row smoothed by a 1-D
    Gaussian along the raster order, ReLU, rows normalised, CLS row/column 0, divided by the
    maximum and rounded to fp16 as the authors do."""
    N = labels.numel()
    flat = labels.flatten()
    sfr = (flat[:, None] == flat[None]).float()
    if delete_same_entity:
        ok, cheb = same_entity(labels)
        decay = torch.exp(-cheb.float() / max(int(cheb.max()), 1))
        sfr = torch.where(ok, sfr, sfr * decay)
    size = min(N, int(6 * std + 1))
    size += 1 - size % 2
    x = torch.arange(size, device=labels.device) - size // 2
    kernel = torch.exp(-x.float() ** 2 / (2 * std ** 2))
    sfr = F.relu(F.conv1d(sfr[:, None], (kernel / kernel.sum()).view(1, 1, -1), padding=size // 2)[:, 0])
    sfr = sfr / (sfr.sum(1, keepdim=True) + 1e-8)
    out = F.pad(sfr, (1, 0, 1, 0))
    return (out / out.max()).half().float()


@MODELS.register_module()
class ResCLIPAttention(LastBlockAttention):
    """A host attention (``host``: NACLIP by default, as the released configs) with ResCLIP's two
    plug-ins. With the host's logit maps L (NACLIP: k kᵀ/√d + Ω; SCLIP: q qᵀ/√d and k kᵀ/√d;
    ClearCLIP: q qᵀ/√d; vanilla: q kᵀ/√d):

    - SFR (Eq. 6-7): L ← τ_s ((1 − λ_s) L + λ_s S̃) with S̃ = ``feedback_map`` of a first pass's
      labels (the same tower without SFR, scored against the classes, PAMR 10 × (8, 16), softmax
      × ``logit_scale``, labels below ``temp_thd`` → query 0, majority per patch);
    - RCS (Eq. 3-4): A = Σ softmax(L) ← τ_r ((1 − λ_r) A + λ_r A_c), A_c the mean q-k attention of
      blocks ``rcs_layers`` (0-based; layers 6-9 of ViT-B/16).

    ``sfr=None`` / ``rcs=None`` turn a plug-in off. SFR scores the first pass against the class
    text: the segmentor provides it (``text_context``), so SFR runs inside ``ZeroShotSegmentor``.
    Residual and FFN of the last block follow the host (kept for SCLIP and vanilla)."""
    short_name = 'resclip'
    tower = True
    needs_text = True

    def __init__(self, host: str = 'naclip', rcs: Optional[Sequence[float]] = (2.0, 0.3),
                 sfr: Optional[Sequence[float]] = (2.2, 0.7), rcs_layers: Sequence[int] = (5, 6, 7, 8),
                 temp_thd: float = 0.5, gaussian_std: float = 5.0, delete_same_entity: bool = True,
                 pamr_steps: int = 10, pamr_dilations: Sequence[int] = (8, 16)):
        super().__init__()
        if host not in HOSTS:
            raise ValueError(f'ResCLIP host must be one of {HOSTS}, got {host!r}')
        self.host = host
        self.keep_residual = self.keep_ffn = host in ('sclip', 'vanilla')
        self.rcs = None if rcs is None else tuple(rcs)
        self.sfr = None if sfr is None else tuple(sfr)
        self.rcs_layers = tuple(rcs_layers)
        self.temp_thd, self.gaussian_std = temp_thd, gaussian_std
        self.delete_same_entity = delete_same_entity
        self.pamr = PAMR(pamr_steps, pamr_dilations) if pamr_steps else None
        self._text = None

    @contextlib.contextmanager
    def text_context(self, images: Tensor, queries: Tensor, logit_scale: float):
        """While open, SFR's first pass scores (B, 3, H, W) ``images`` against ``queries`` (Q, D)."""
        self._text = (images, queries, logit_scale)
        try:
            yield
        finally:
            self._text = None

    def host_logits(self, q: Tensor, k: Tensor) -> Sequence[Tensor]:
        s = q.shape[-1] ** -0.5
        return {'naclip': lambda: [k @ k.transpose(-1, -2) * s],
                'sclip': lambda: [q @ q.transpose(-1, -2) * s, k @ k.transpose(-1, -2) * s],
                'clearclip': lambda: [q @ q.transpose(-1, -2) * s],
                'vanilla': lambda: [q @ k.transpose(-1, -2) * s]}[self.host]()

    def last_block(self, block, x: Tensor, grid, rcs_map: Optional[Tensor],
                   sfr_map: Optional[Tensor]) -> Tensor:
        q, k, v = qkv_heads(block, x)
        maps = self.host_logits(q, k)
        if sfr_map is not None:
            tau, lam = self.sfr
            maps = [tau * ((1 - lam) * m + lam * sfr_map[:, None]) for m in maps]
        if self.host == 'naclip':
            omega = gaussian_neighbourhood(tuple(grid), self.gaussian_std,
                                           x.shape[1] - grid[0] * grid[1])
            maps = [m + omega.to(m) for m in maps]
        attn = sum(F.softmax(m, dim=-1) for m in maps)
        if rcs_map is not None:
            tau, lam = self.rcs
            attn = tau * ((1 - lam) * attn + lam * rcs_map)
        out = project_heads(block, attn @ v)
        x = x + out if self.keep_residual else out
        return x + block.ls_2(block.mlp(block.ln_2(x))) if self.keep_ffn else x

    def feedback(self, visual, tokens: Tensor, grid) -> Tensor:
        """First-pass tokens (B, 1 + N, C) → (B, 1 + N, 1 + N) SFR maps."""
        if self._text is None:
            raise RuntimeError("ResCLIP's SFR scores a first pass against the classes: run it in "
                               'ZeroShotSegmentor, or build it with sfr=None')
        images, queries, scale = self._text
        feats = F.normalize(visual.ln_post(tokens[:, 1:]) @ visual.proj, dim=-1)
        logits = (feats @ queries.to(feats).t()).transpose(1, 2).reshape(len(feats), -1, *grid)
        logits = F.interpolate(logits, size=images.shape[-2:], mode='bilinear', align_corners=False)
        if self.pamr is not None:
            logits = self.pamr(images.float(), logits)
        probs = F.softmax(logits * scale, dim=1)
        patch = visual.conv1.kernel_size[0]
        return torch.stack([feedback_map(patch_labels(p, patch, grid, self.temp_thd),
                                         self.gaussian_std, self.delete_same_entity) for p in probs])

    def run_tower(self, visual, x, grid):
        blocks = visual.transformer.resblocks
        if self.rcs is not None and max(self.rcs_layers) >= len(blocks) - 1:
            raise ValueError(f'ResCLIP RCS layers {self.rcs_layers} need a ViT of more than '
                             f'{max(self.rcs_layers) + 1} blocks, got {len(blocks)}; set rcs_layers')
        maps = []
        for i, block in enumerate(blocks[:-1]):
            if self.rcs is not None and i in self.rcs_layers:
                q, k, v = qkv_heads(block, x)
                attn = F.softmax(q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5, dim=-1)
                maps.append(attn)
                x = x + project_heads(block, attn @ v)
                x = x + block.ls_2(block.mlp(block.ln_2(x)))
            else:
                x = block(x)
        rcs_map = torch.stack(maps).mean(0) if maps else None
        sfr_map = None
        if self.sfr is not None:
            first = self.last_block(blocks[-1], x, grid, rcs_map, None)
            sfr_map = self.feedback(visual, first, grid).to(x)
        return self.last_block(blocks[-1], x, grid, rcs_map, sfr_map)
