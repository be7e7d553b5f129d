"""Recall of class-agnostic mask proposals against the ground truth's class regions."""
from typing import List, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from mmseg.registry import METRICS


@METRICS.register_module()
class MaskRecall(BaseMetric):
    """A ground-truth region (each class present, ``ignore_index`` left out) is recalled when one
    of the image's proposals (the ``max_proposals`` best by objectness, each kept where its
    probability > 0.5) overlaps it with IoU ≥ ``iou_thr``. Reports ``recall`` (%) and ``mean_best_iou``
    (%, the mean over regions of their best proposal's IoU). Reads ``proposal_masks``/``proposal_scores``
    (``ProposalGenerator``)."""

    default_prefix = 'proposals'

    def __init__(self, iou_thr: float = 0.5, max_proposals: int = 100, ignore_index: int = 255,
                 **kwargs):
        super().__init__(**kwargs)
        self.iou_thr, self.max_proposals, self.ignore_index = iou_thr, max_proposals, ignore_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            gt = torch.as_tensor(sample['gt_sem_seg']['data'][0]).cpu()
            masks = torch.as_tensor(sample['proposal_masks']).cpu()
            scores = torch.as_tensor(sample['proposal_scores']).cpu()
            top = torch.argsort(scores, descending=True)[:self.max_proposals]
            props = (masks[top] > 0.5).flatten(1).float()                      # (P, HW)
            classes = [c for c in torch.unique(gt).tolist() if c != self.ignore_index]
            if not classes:
                continue
            regions = torch.stack([(gt == c).flatten() for c in classes]).float()   # (R, HW)
            inter = regions @ props.T
            union = regions.sum(1, keepdim=True) + props.sum(1)[None] - inter
            best = (inter / union.clamp_min(1)).amax(dim=1) if len(props) else torch.zeros(len(classes))
            self.results.append(best.numpy())

    def compute_metrics(self, results: List[np.ndarray]) -> dict:
        best = np.concatenate(results) if results else np.zeros(0)
        return dict(recall=float(100 * (best >= self.iou_thr).mean()) if len(best) else 0.0,
                    mean_best_iou=float(100 * best.mean()) if len(best) else 0.0)
