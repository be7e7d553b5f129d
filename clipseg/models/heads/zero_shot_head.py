"""The zero-shot head: dense CLIP features · class text embeddings → window scores → class
probabilities → labels, with the thresholds of the literature.

A segmentor runs adapter → head per window, stitches the windows (``segmentors/stitching.py``),
optionally refines with PAMR, then asks the head for probabilities and labels. How the next
methods plug in, each as one registered class plus configs:

- **attention in CLIP's last block(s)** (SCLIP, ClearCLIP, NACLIP, ...): a ``LastBlockAttention``
  subclass with a ``short_name`` (``attention/base.py``); the head is unchanged;
- **something computed per window from the adapter's outputs** (CLIP-DINOiser's correlation
  pooling and background, or a second backbone's affinities as ProxyCLIP uses them): subclass
  ``ZeroShotHead``, override ``forward`` and set ``returns`` to what it gives back; trained parts
  live in the head, their loss in a mixin of the segmentor (``segmentors/dinoiser.py``);
- **an extra image-level input** (a mask source, as CorrCLIP needs): a module the head builds from
  its config and calls in ``forward``; the segmentor needs no edit.

Test settings (``logit_scale``, ``prob_thd``, ``area_thd``, ``renormalize``, ``bg_idx``) are the
segmentor's ``test_cfg``, passed to the head as mmseg passes ``test_cfg`` to a decode head.
"""
from typing import Callable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from .class_probabilities import class_probabilities
from ..text import ClassEmbeddings

Rows = Callable[[int, int], Tensor]   # (r0, r1) → (Q, r1 - r0, W) stitched query scores


@MODELS.register_module()
class ZeroShotHead(nn.Module):
    """MaskCLIP's head: cosine similarity of the adapter's last output with each query.

    ``forward(outputs, emb, test_cfg)``: adapter outputs (the last is (N, D, h, w) in CLIP's joint
    space) → (N, Q, h, w) scores. ``returns`` says what they are: ``'logits'`` (cosines, turned
    into probabilities by softmax(``logit_scale`` · s)) or ``'probabilities'``.
    """
    returns = 'logits'

    def __init__(self, in_channels: Optional[int] = None):
        super().__init__()   # ``in_channels`` (the adapter's width, given by the segmentor): unused

    def forward(self, outputs: Tuple[Tensor, ...], emb: ClassEmbeddings, test_cfg: dict) -> Tensor:
        feats = F.normalize(outputs[-1], dim=1)
        return torch.einsum('ndhw,qd->nqhw', feats, emb.queries.float())

    def class_probs(self, scores: Tensor, emb: ClassEmbeddings, test_cfg: dict) -> Tensor:
        """(Q, ...) scores → (K, ...) class probabilities (``class_probabilities``)."""
        scale = None if self.returns == 'probabilities' else test_cfg['logit_scale']
        return class_probabilities(scores, emb.query_class, emb.num_classes, scale)

    @staticmethod
    def labels(probs: Tensor, dropped: Optional[Tensor], test_cfg: dict) -> Tensor:
        """(K, ...) probabilities → (...) labels: dropped classes (area threshold) zeroed, then
        pixels whose best probability is below ``prob_thd`` go to ``bg_idx``."""
        if dropped is not None:
            probs = probs * (~dropped).to(probs.dtype).view(-1, *([1] * (probs.dim() - 1)))
        best, labels = probs.max(dim=0)
        if test_cfg['prob_thd'] > 0:
            labels[best < test_cfg['prob_thd']] = test_cfg['bg_idx']
        return labels

    def decide(self, rows: Rows, out_shape: Tuple[int, int], emb: ClassEmbeddings,
               test_cfg: dict, device) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """Stitched scores, read band by band through ``rows`` → (H, W) labels, optional (K, H, W)
        probabilities and optional (K,) mean probabilities.

        Memory stays bounded by ``band_bytes`` unless ``keep_logits`` stores the probabilities
        (up to ``max_logits_bytes``); the (K,) means are those of the stored probabilities, and
        when these are not kept the same means are accumulated band by band."""
        cfg = test_cfg
        H, W = out_shape
        Q, K = emb.queries.shape[0], emb.num_classes
        band = max(1, int(cfg['band_bytes'] // (4 * max(Q, 1) * W * 2)))
        labels = torch.empty((H, W), dtype=torch.long, device=device)
        if not cfg['keep_logits'] and Q == K and not cfg['prob_thd'] and cfg['area_thd'] is None:
            # labels only: softmax is monotonic, so the argmax of the scores is enough
            for r0 in range(0, H, band):
                labels[r0:r0 + band] = rows(r0, r0 + band).argmax(0)
            return labels, None, None

        def bands():
            for r0 in range(0, H, band):
                yield r0, self.class_probs(rows(r0, r0 + band), emb, cfg)

        def stored(probs: Tensor, dropped: Optional[Tensor]) -> Tensor:
            """A band's probabilities as they are stored: dropped classes zeroed, renormalised."""
            if dropped is not None:
                probs = probs * (~dropped).to(probs.dtype).view(-1, 1, 1)
            return probs / probs.sum(dim=0, keepdim=True) if cfg['renormalize'] else probs

        limit = cfg.get('max_logits_bytes')
        keep = cfg['keep_logits'] and (limit is None or 4 * K * H * W <= limit)
        probs_out = torch.empty((K, H, W), dtype=torch.float32, device=device) if keep else None
        area = torch.zeros(K, device=device)
        sums = torch.zeros(K, dtype=torch.float64, device=device)
        for r0, probs in bands():
            labels[r0:r0 + probs.shape[1]] = self.labels(probs, None, cfg)
            area += torch.bincount(probs.argmax(dim=0).flatten(), minlength=K)
            if probs_out is not None:
                probs_out[:, r0:r0 + probs.shape[1]] = probs
            else:
                sums += stored(probs, None).double().sum(dim=(1, 2))
        if cfg['area_thd'] is not None:
            # SCLIP: a class keeps its probabilities only when its argmax area is strictly above
            # area_thd × the argmax area of all classes but bg_idx; the others' are zeroed.
            area[cfg['bg_idx']] = 0
            dropped = ~(area > cfg['area_thd'] * area.sum())
            dropped[cfg['bg_idx']] = False
            if dropped.any():
                if probs_out is not None:
                    probs_out[dropped] = 0
                    labels = self.labels(probs_out, None, cfg)
                else:
                    sums.zero_()
                    for r0, probs in bands():
                        labels[r0:r0 + probs.shape[1]] = self.labels(probs, dropped, cfg)
                        sums += stored(probs, dropped).double().sum(dim=(1, 2))
        if probs_out is None:
            return labels, None, (sums / (H * W)).float()
        if cfg['renormalize']:
            # NACLIP: the stored probabilities sum to 1 again after the synonym max (labels unchanged)
            probs_out /= probs_out.sum(dim=0, keepdim=True)
        return labels, probs_out, probs_out.mean(dim=(1, 2))
