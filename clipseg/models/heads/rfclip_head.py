"""RF-CLIP's and CASS's text side (liblacklucy/RF-CLIP @c2b333e ``custom_segmentor.py:96-184``
with complete linkage; MICV-yonsei/CASS @228ecdd ``cass_segmentor.py:98-212`` with ward linkage):
names grouped once by hierarchical clustering of their
text embeddings; per window the best name of each group is nudged toward the image, and the
scores mix the patch similarity with the image-level similarity."""
from typing import Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from ..text import ClassEmbeddings
from .zero_shot_head import ZeroShotHead


def cluster_names(queries: Tensor, max_distance: float, method: str = 'complete') -> Tensor:
    """(Q, D) unit text embeddings → (Q,) group ids: ``method`` linkage (RF-CLIP: complete, CASS:
    ward) on cosine distances, cut at ``max_distance`` (scipy's ``linkage`` +
    ``fcluster(criterion='distance')``, as the authors)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist
    if queries.shape[0] == 1:
        return torch.zeros(1, dtype=torch.long)
    tree = linkage(pdist(queries.detach().double().cpu().numpy(), 'cosine'), method=method)
    return torch.from_numpy(fcluster(tree, t=max_distance, criterion='distance').astype(np.int64) - 1)


@MODELS.register_module()
class RFCLIPHead(ZeroShotHead):
    """Scores ℓ = (1 − w) cos(F, T′) + w g, per window (N, Q, h, w).

    g = cos(global embedding, queries): the window's own global token (``global_from='window'``;
    whole-image configs and Cityscapes), or that of a pass over the whole image
    (``global_from='image'``; the segmentor supplies it in slide mode). T′: in each group of names
    (``cluster_names`` at ``cluster_distance``), the name with the highest g becomes
    normalize((1 − a) t + a m), m = the normalised mean of the ``topk`` patch features most similar
    to t; a = ``nudge_weight``, w = ``global_weight``; ``linkage``: ``'complete'`` (RF-CLIP) or
    ``'ward'`` (CASS). Needs an adapter with ``with_global=True``."""
    returns = 'logits'

    def __init__(self, global_weight: float, nudge_weight: float, cluster_distance: float,
                 topk: int = 2, global_from: str = 'image', linkage: str = 'complete',
                 in_channels: Optional[int] = None):
        super().__init__(in_channels)
        if linkage not in ('complete', 'ward'):
            raise ValueError(f"linkage must be 'complete' (RF-CLIP) or 'ward' (CASS), got {linkage!r}")
        self.linkage = linkage
        if global_from not in ('image', 'window'):
            raise ValueError(f"global_from must be 'image' or 'window', got {global_from!r}")
        self.global_weight, self.nudge_weight = global_weight, nudge_weight
        self.cluster_distance, self.topk = cluster_distance, topk
        self.global_from = global_from

    @property
    def wants_image_global(self) -> bool:
        return self.global_from == 'image'

    def nudged_queries(self, feats: Tensor, sims: Tensor, queries: Tensor) -> Tensor:
        """feats (N, P, D) unit patch features, sims (N, Q) image-level similarities → (N, Q, D)."""
        groups = cluster_names(queries, self.cluster_distance, self.linkage).to(queries.device)
        best = torch.zeros_like(sims, dtype=torch.bool)
        for g in groups.unique():
            members = (groups == g).nonzero().flatten()
            best[torch.arange(sims.shape[0]), members[sims[:, members].argmax(dim=1)]] = True
        k = min(self.topk, feats.shape[1])
        top = torch.einsum('npd,qd->nqp', feats, queries).topk(k, dim=-1).indices      # (N, Q, k)
        picked = torch.gather(feats[:, None].expand(-1, queries.shape[0], -1, -1), 2,
                              top[..., None].expand(-1, -1, -1, feats.shape[-1]))
        mean = F.normalize(picked.mean(dim=2), dim=-1)
        a = self.nudge_weight
        nudged = F.normalize((1 - a) * queries[None] + a * mean, dim=-1)
        return torch.where(best[..., None], nudged, queries[None].expand_as(nudged))

    def forward(self, outputs: Tuple, emb: ClassEmbeddings, test_cfg: dict,
                image_globals: Optional[Tensor] = None) -> Tensor:
        last = outputs[-1]
        if not isinstance(last, (tuple, list)):
            raise TypeError('RFCLIPHead needs the global token: the adapter must run with '
                            "backbone_cfg=dict(with_global=True)")
        glob, dense = last
        if self.global_from == 'image' and image_globals is not None:
            glob = image_globals
        N, D, h, w = dense.shape
        queries = F.normalize(emb.queries.float(), dim=-1)
        feats = F.normalize(dense.flatten(2).transpose(1, 2), dim=-1)                  # (N, P, D)
        sims = F.normalize(glob.float(), dim=-1) @ queries.t()                         # (N, Q)
        text = self.nudged_queries(feats, sims, queries)
        scores = torch.einsum('npd,nqd->nqp', feats, text)
        scores = (1 - self.global_weight) * scores + self.global_weight * sims[..., None]
        return scores.view(N, -1, h, w)
