"""Regions without a mask model: k-means on the proxy's DINO features, split into connected parts."""
import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .base import MaskSource


def kmeans(x: Tensor, k: int, iterations: int = 20, seed: int = 0) -> Tensor:
    """(N, C) unit vectors → (N,) cluster ids: cosine k-means, k-means++ seeding with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    k = min(k, x.shape[0])
    centres = x[torch.randint(x.shape[0], (1,), generator=g)]
    for _ in range(1, k):
        d = (1 - x @ centres.t()).clamp_min(0).min(1).values
        pick = torch.multinomial(d + 1e-12, 1, generator=g) if d.sum() > 0 else \
            torch.randint(x.shape[0], (1,), generator=g)
        centres = torch.cat([centres, x[pick]])
    for _ in range(iterations):
        ids = (x @ centres.t()).argmax(1)
        new = torch.zeros_like(centres).index_add_(0, ids, x)
        empty = new.norm(dim=1) == 0
        new[empty] = centres[empty]
        new = F.normalize(new, dim=1)
        if torch.allclose(new, centres):
            break
        centres = new
    return (x @ centres.t()).argmax(1)


@MODELS.register_module()
class DINOClusterMasks(MaskSource):
    """Regions from the segmentor's proxy (DINO) features of the whole image: ``num_clusters``
    cosine k-means clusters, each split into 4-connected parts on the patch grid; parts smaller
    than ``min_cells`` patches stay unsegmented (0). No extra model; coarse (patch-sized)
    boundaries, so CorrCLIP's pixel-level map correction is best left off with it."""
    uses_proxy = True

    def __init__(self, num_clusters: int = 8, min_cells: int = 4, iterations: int = 20, seed: int = 0):
        super().__init__()
        if num_clusters < 1:
            raise ValueError(f'num_clusters must be at least 1, got {num_clusters}')
        self.num_clusters, self.min_cells = int(num_clusters), int(min_cells)
        self.iterations, self.seed = int(iterations), int(seed)

    @torch.no_grad()
    def forward(self, image, meta, proxy=None) -> Tensor:
        if proxy is None:
            raise ValueError('DINOClusterMasks clusters the proxy\'s features: set model.proxy')
        x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
        x = (x.to(proxy.in_mean.device) - proxy.in_mean) / proxy.in_std   # as the crops arrive
        feats = proxy(x, 'x')[0].float()                                  # (C, h, w)
        C, h, w = feats.shape
        ids = kmeans(F.normalize(feats.flatten(1).t(), dim=1).cpu(), self.num_clusters,
                     self.iterations, self.seed).view(h, w).numpy()
        regions = np.zeros((h, w), np.int64)
        next_id = 1
        for c in np.unique(ids):
            n, parts = cv2.connectedComponents((ids == c).astype(np.uint8), connectivity=4)
            for p in range(1, n):
                cells = parts == p
                if cells.sum() >= self.min_cells:
                    regions[cells] = next_id
                    next_id += 1
        return torch.from_numpy(regions)
