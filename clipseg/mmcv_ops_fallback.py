"""mmcv's compiled ops on torchvision, for mmcv builds that ship none (onedl-mmcv, mmcv-lite).

mmdet needs ``mmcv._ext`` for NMS and RoIAlign (``import mmdet.models`` fails without it). Where
no compiled ``mmcv._ext`` exists we register a module in its place: ``nms`` and
``roi_align_forward``/``roi_align_backward`` (average mode) run on ``torchvision.ops``; every other
op exists, so mmcv's loader accepts the module, and raises naming itself when called. Where
compiled ops exist this does nothing, and no installed file is touched.
"""
import importlib.machinery
import importlib.util
import sys
import types

import torch

MISSING_HINT = ('it is a compiled mmcv op and this mmcv has none (torchvision stands in for '
                'nms and roi_align only); install a full mmcv build for it')


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float, offset: int = 0):
    """mmcv ``_ext.nms``: kept indices, by decreasing score. ``offset=1`` counts box widths as
    x2 - x1 + 1 (mmcv's legacy convention)."""
    from torchvision.ops import nms as tv_nms
    if offset:
        boxes = torch.cat([boxes[:, :2], boxes[:, 2:4] + offset], dim=1)
    return tv_nms(boxes.float(), scores.float(), float(iou_threshold))


def roi_align_forward(input, rois, output, argmax_y, argmax_x, aligned_height, aligned_width,
                      spatial_scale, sampling_ratio, pool_mode, aligned):
    """mmcv ``_ext.roi_align_forward``: fills ``output`` (K, C, ah, aw) in place."""
    if pool_mode == 0:
        raise NotImplementedError(f'roi_align max mode: {MISSING_HINT}')
    from torchvision.ops import roi_align
    output.copy_(roi_align(input, rois.to(input.dtype), (aligned_height, aligned_width),
                           spatial_scale, sampling_ratio, aligned))


def roi_align_backward(grad_output, rois, argmax_y, argmax_x, grad_input, aligned_height,
                       aligned_width, spatial_scale, sampling_ratio, pool_mode, aligned):
    """mmcv ``_ext.roi_align_backward``: fills ``grad_input`` (B, C, H, W) in place."""
    if pool_mode == 0:
        raise NotImplementedError(f'roi_align max mode: {MISSING_HINT}')
    B, C, H, W = grad_input.shape
    grad_input.copy_(torch.ops.torchvision._roi_align_backward(
        grad_output, rois.to(grad_output.dtype), spatial_scale, aligned_height, aligned_width,
        B, C, H, W, sampling_ratio, aligned))


class TorchvisionOps(types.ModuleType):
    """Stands in for ``mmcv._ext``: the ops above, and a raising stub for any other name."""

    def __init__(self):
        super().__init__('mmcv._ext')
        self.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
        self.nms = nms
        self.roi_align_forward = roi_align_forward
        self.roi_align_backward = roi_align_backward

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def missing(*args, **kwargs):
            raise NotImplementedError(f'mmcv op {name!r} is not available: {MISSING_HINT}')
        missing.__name__ = name
        return missing


def has_compiled_ops() -> bool:
    ext = sys.modules.get('mmcv._ext')
    if ext is not None:
        return not isinstance(ext, TorchvisionOps)
    try:
        return importlib.util.find_spec('mmcv._ext') is not None
    except (ImportError, ValueError):
        return False


def install() -> bool:
    """Register the stand-in unless compiled ops exist; True when it is (now) in place."""
    if importlib.util.find_spec('mmcv') is None or has_compiled_ops():
        return False
    if not isinstance(sys.modules.get('mmcv._ext'), TorchvisionOps):
        sys.modules['mmcv._ext'] = TorchvisionOps()
    return True
