"""Query scores → class probabilities: the one step every zero-shot path (inference, ONNX
export) shares."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def class_probabilities(scores: Tensor, query_class: Tensor, num_classes: int,
                        logit_scale: Optional[float]) -> Tensor:
    """(Q, ...) query scores → (K, ...) class probabilities.

    softmax(logit_scale · s) over the queries (MaskCLIP/SCLIP; skipped with ``logit_scale=None``
    when the scores already are probabilities, as CLIP-DINOiser's), then the max over each
    class's synonyms (SCLIP's query-to-class pooling). Written with ``amax`` per class, which
    exports to ONNX."""
    probs = scores if logit_scale is None else F.softmax(scores * logit_scale, dim=0)
    if probs.shape[0] == num_classes:
        return probs
    return torch.stack([probs[query_class == k].amax(dim=0) for k in range(num_classes)])
