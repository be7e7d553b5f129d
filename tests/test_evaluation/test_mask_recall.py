"""Mask recall counts a region as found only by a proposal overlapping it at IoU ≥ 0.5, among the
best-scoring proposals."""
import pytest
import torch

from clipseg.evaluation import MaskRecall


def _sample(gt, masks, scores):
    return dict(gt_sem_seg=dict(data=gt[None]), proposal_masks=masks, proposal_scores=scores)


def test_planted_proposals_give_the_planted_recall():
    gt = torch.full((10, 10), 255)
    gt[:, :4], gt[:, 4:7], gt[:, 7:] = 0, 1, 2          # three regions of 40, 30, 30 pixels
    masks = torch.zeros(4, 10, 10)
    masks[0, :, :4] = 0.9                                # region 0 exactly
    masks[1, :, 4:7] = 0.8                               # region 1 exactly
    masks[2, :, 5:10] = 0.9                              # region 2: IoU 3/5 = 0.6, but scored low
    masks[3, :, 7:] = 0.4                                # below the mask threshold: nothing
    metric = MaskRecall(iou_thr=0.5, max_proposals=4)
    metric.process({}, [_sample(gt, masks, torch.tensor([0.9, 0.8, 0.1, 0.95]))])
    res = metric.compute_metrics(metric.results)
    assert res['recall'] == pytest.approx(100.0)
    assert res['mean_best_iou'] == pytest.approx(100 * (1 + 1 + 0.6) / 3)
    metric = MaskRecall(iou_thr=0.5, max_proposals=3)    # the 0.1-scored proposal is cut
    metric.process({}, [_sample(gt, masks, torch.tensor([0.9, 0.8, 0.1, 0.95]))])
    assert metric.compute_metrics(metric.results)['recall'] == pytest.approx(200 / 3)
