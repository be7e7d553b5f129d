"""CLIP-DINOiser's head (Wysoczańska et al., ECCV 2024): MaskCLIP features pooled with the
correlations two light convs learned from DINO, plus a learned background map."""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..text import ClassEmbeddings
from .zero_shot_head import ZeroShotHead


def correlation_pool(dense: Tensor, corr: Tensor, gamma: Optional[float]) -> Tensor:
    """CLIP-DINOiser Eq. 2: each patch's feature becomes the mean of all patches' features
    weighted by its correlations (those below ``gamma`` set to 0).

    dense (B, D, h, w), corr (B, h*w, h, w) → (B, D, h, w)."""
    if gamma is not None:
        corr = corr.masked_fill(corr < gamma, 0.0)
    B, D, h, w = dense.shape
    weights = corr.flatten(2)                                            # (B, N_i, N_j)
    pooled = torch.einsum('bij,bdj->bdi', weights, dense.flatten(2))
    pooled = pooled / (weights.sum(dim=-1).unsqueeze(1) + 1e-6)
    return pooled.reshape(B, D, h, w)


@MODELS.register_module()
class DINOiserHead(ZeroShotHead):
    """``obj_proj`` (3×3 conv, replicate padding, ``in_channels`` → ``proj_dim``) and
    ``bkg_decoder`` (1×1 conv, ``in_channels`` → 1) on the features of a middle block.

    ``forward(outputs=(mid (N, C, h, w), dense (N, D, h, w)), emb, test_cfg)`` → (N, Q, h, w)
    probabilities: correlations of the L2-normalised ``obj_proj`` output, thresholded at ``gamma``,
    pool the dense features; softmax(100 · cosine) as the authors' ``cls_seg``; with
    ``apply_background``, patches whose best probability is below ``delta`` and that the
    background map calls background go to class ``test_cfg['bg_idx']``.
    """
    returns = 'probabilities'

    def __init__(self, in_channels: int, proj_dim: int = 256, gamma: float = 0.2,
                 delta: float = 0.99, apply_background: bool = False):
        super().__init__()
        self.obj_proj = nn.Conv2d(in_channels, proj_dim, 3, padding=1, padding_mode='replicate')
        self.bkg_decoder = nn.Conv2d(in_channels, 1, 1)
        self.gamma, self.delta, self.apply_background = gamma, delta, apply_background

    def priors(self, mid: Tensor) -> Tuple[Tensor, Tensor]:
        """(B, C, h, w) block features → (B, h*w, h, w) correlations, (B, 1, h, w) bkg logits."""
        proj = F.normalize(self.obj_proj(mid), dim=1).flatten(2)
        B, _, h, w = mid.shape
        corr = (proj.transpose(1, 2) @ proj).reshape(B, h * w, h, w)
        return corr, self.bkg_decoder(F.normalize(mid, dim=1))

    def forward(self, outputs: Tuple[Tensor, ...], emb: ClassEmbeddings, test_cfg: dict) -> Tensor:
        mid, dense = outputs
        corr, bkg = self.priors(mid)
        pooled = F.normalize(correlation_pool(dense, corr, self.gamma), dim=1)
        probs = F.softmax(100.0 * torch.einsum('ndhw,qd->nqhw', pooled, emb.queries.float()), dim=1)
        if self.apply_background:
            bg_query = int((emb.query_class == test_cfg['bg_idx']).nonzero()[0])
            foreground = torch.sigmoid(bkg[:, 0]) > 0.5
            uncertain = probs.max(dim=1).values < self.delta
            probs[:, bg_query][uncertain & ~foreground] = 1.0
        return probs

    def loss(self, mid: Tensor, dino_corr: Tensor, foreground: Tensor) -> Dict[str, Tensor]:
        """BCE of the predicted correlations against DINO's binarised ones and of the background
        logits against the FOUND-style foreground (resized bilinearly to the grid, then > 0.5, the
        authors' recipe). mid (B, C, h, w), dino_corr (B, h*w, h, w), foreground (B, 1, h', w')."""
        corr, bkg = self.priors(mid)
        if dino_corr.shape[-2:] != corr.shape[-2:]:
            raise ValueError(f'DINO grid {tuple(dino_corr.shape[-2:])} differs from CLIP grid '
                             f'{tuple(corr.shape[-2:])}: use teachers with the same patch size')
        foreground = (F.interpolate(foreground, size=bkg.shape[-2:], mode='bilinear',
                                    align_corners=False, antialias=True) > 0.5).float()
        return dict(loss_corr=F.binary_cross_entropy_with_logits(corr.clamp(min=0), dino_corr),
                    loss_bkg=F.binary_cross_entropy_with_logits(bkg, foreground))
