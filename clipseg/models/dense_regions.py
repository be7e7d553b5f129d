"""Instances from dense class maps (clipseg's training-free instances): each connected region of a
class becomes a mask, box and score. Needs no mmdet: the detector (``detectors/dense_instances.py``)
and the OVSeg mask source (``masks/instance_masks.py``) both use it."""
from typing import Sequence

import cv2
import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from .building import mmseg_scoped


def instances_from_maps(probs: Tensor, labels: Tensor, skip: Sequence[int] = (),
                        min_area: int = 64, prob_thr: float = 0.0, nms_iou: float = 0.5,
                        max_per_img: int = 100) -> InstanceData:
    """(K, H, W) class probabilities + (H, W) label map → instances: each 8-connected region of
    pixels labelled k gives one instance; with ``prob_thr`` its mask keeps only the pixels with
    p_k ≥ ``prob_thr`` (a region crossed by a low-probability stripe stays one instance). An
    instance needs ``min_area`` mask pixels; its box (x1, y1, x2, y2) is the mask's extent and its
    score the mean p_k over the mask. Class-wise NMS on mask IoU (> ``nms_iou``): regions of one
    class never share pixels, so it removes nothing here, unlike box IoU, which would drop an
    object lying in the hole of a same-class ring; then the ``max_per_img`` best. Classes in
    ``skip`` (e.g. background) give none. Labels keep the class index k."""
    H, W = labels.shape
    label_np = labels.cpu().numpy()
    boxes, classes, scores, masks = [], [], [], []
    for k in range(probs.shape[0]):
        if k in skip:
            continue
        region = label_np == k
        if region.sum() < min_area:
            continue
        confident = probs[k].cpu().numpy() >= prob_thr if prob_thr > 0 else None
        count, comp = cv2.connectedComponents(region.astype(np.uint8), connectivity=8)
        for c in range(1, count):
            mask_np = comp == c
            if confident is not None:
                mask_np &= confident
            if mask_np.sum() < min_area:
                continue
            ys, xs = np.nonzero(mask_np)
            mask = torch.from_numpy(mask_np)
            boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
            classes.append(k)
            scores.append(float(probs[k][mask.to(probs.device)].float().mean()))
            masks.append(mask)
    out = InstanceData()
    if not boxes:
        out.bboxes = torch.zeros(0, 4)
        out.labels = torch.zeros(0, dtype=torch.long)
        out.scores = torch.zeros(0)
        out.masks = torch.zeros(0, H, W, dtype=torch.bool)
        return out
    bboxes, score_t = torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores)
    label_t, mask_t = torch.tensor(classes, dtype=torch.long), torch.stack(masks)
    keep = mask_nms(mask_t, score_t, label_t, nms_iou)[:max_per_img]
    out.bboxes, out.labels, out.scores, out.masks = bboxes[keep], label_t[keep], score_t[keep], mask_t[keep]
    return out


def mask_nms(masks: Tensor, scores: Tensor, labels: Tensor, iou_thr: float) -> Tensor:
    """Indices kept by class-wise NMS on mask IoU, best score first. (N, H, W) bool masks."""
    order = torch.argsort(scores, descending=True)
    flat = masks[order].flatten(1).float()
    inter = flat @ flat.t()
    area = flat.sum(dim=1)
    iou = inter / (area[:, None] + area[None, :] - inter).clamp(min=1)
    same = labels[order][:, None] == labels[order][None, :]
    keep = []
    for i in range(len(order)):
        if not any(same[i, j] and iou[i, j] > iou_thr for j in keep):
            keep.append(i)
    return order[keep]


def segmentor_config(segmentor: dict) -> dict:
    """``dict(config=NAME, **overrides)`` → the ``model`` of the segmentation config NAME (a shipped
    name or a path) with the overrides merged in as mmengine merges a child config (``_delete_``
    included); any other dict is returned as it is. An instance config names its segmentation
    protocol this way, so the two cannot drift, and configs inheriting it can still override
    ``model.segmentor.*``."""
    if 'config' not in segmentor:
        return segmentor
    from mmengine.config import Config
    from ..apis.configs import find_config
    overrides = {k: v for k, v in dict(segmentor).items() if k != 'config'}
    model = Config._merge_a_into_b(overrides, find_config(segmentor['config']).model.to_dict())
    return mmseg_scoped(model)
