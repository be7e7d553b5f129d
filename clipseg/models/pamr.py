"""PAMR: pixel-adaptive mask refinement (Araslanov & Roth, CVPR 2020, Eq. 3-4)."""
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _neighbours(x: Tensor, dilations: Sequence[int], with_centre: bool) -> Iterator[Tensor]:
    """(B, C, H, W) → each pixel's 3×3 neighbours at every dilation, one (B, C, H, W) view each
    (replicate padding at the border)."""
    H, W = x.shape[-2:]
    for d in dilations:
        padded = F.pad(x, [d] * 4, mode='replicate')
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                if dy == dx == 0 and not with_centre:
                    continue
                yield padded[..., d + dy * d:d + dy * d + H, d + dx * d:d + dx * d + W]


def _shifted(x: Tensor, dilations: Sequence[int], with_centre: bool) -> Tensor:
    """(B, C, H, W) → (B, C, P, H, W): the neighbours stacked."""
    return torch.stack(list(_neighbours(x, dilations, with_centre)), dim=2)


class PAMR(nn.Module):
    """Refines (B, K, H, W) masks with image (B, 3, H, W) affinities, ``num_iter`` times.

    Affinity to neighbour j: softmax_j(mean_c(-|I_i - I_j| / (0.1 σ_i))), σ_i the local std.
    """

    def __init__(self, num_iter: int = 10, dilations: Sequence[int] = (8, 16)):
        super().__init__()
        self.num_iter = num_iter
        self.dilations = tuple(dilations)

    @torch.no_grad()
    def forward(self, image: Tensor, mask: Tensor) -> Tensor:
        image = image.float()
        mask = F.interpolate(mask.float(), size=image.shape[-2:], mode='bilinear', align_corners=True)
        std = _shifted(image, self.dilations, with_centre=True).std(dim=2, keepdim=True)
        diff = (_shifted(image, self.dilations, with_centre=False) - image.unsqueeze(2)).abs()
        affinity = F.softmax((-diff / (1e-8 + 0.1 * std)).mean(dim=1, keepdim=True), dim=2)
        for _ in range(self.num_iter):
            mask = self._propagate(mask, affinity)
        return mask

    def _propagate(self, mask: Tensor, affinity: Tensor) -> Tensor:
        """Σ_j affinity_j · mask_j over the 8 neighbours at each dilation (Eq. 4), accumulated
        neighbour by neighbour: one (B, K, H, W) buffer instead of a (B, K, P, H, W) stack."""
        out = torch.zeros_like(mask)
        for p, shifted in enumerate(_neighbours(mask, self.dilations, with_centre=False)):
            out.addcmul_(shifted, affinity[:, :, p])
        return out
