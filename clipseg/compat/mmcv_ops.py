"""mmcv's compiled ops on torchvision, for mmcv builds that ship none (onedl-mmcv, mmcv-lite).

mmdet needs ``mmcv._ext`` for NMS and RoIAlign (``import mmdet.models`` fails without it), and on a
GPU its FocalLoss calls the compiled sigmoid focal loss. Where no compiled ``mmcv._ext`` exists we
register a module in its place: ``nms`` and ``roi_align_forward``/``roi_align_backward`` (average
mode) run on ``torchvision.ops``, ``sigmoid_focal_loss_forward/backward`` and
``ms_deform_attn_forward/backward`` (Mask2Former's pixel decoder on a GPU) in plain torch; every other
op exists, so mmcv's loader accepts the module, and raises naming itself when called. Where
compiled ops exist this does nothing, and no installed file is touched.
"""
import importlib.machinery
import importlib.util
import sys
import types

import torch

MISSING_HINT = ('it is a compiled mmcv op and this mmcv has none (stand-ins exist for nms, '
                'roi_align, sigmoid_focal_loss and ms_deform_attn only); install a full mmcv build '
                'for it')


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


def _focal_parts(input, target):
    """p = σ(x) (N, C) and the one-hot (N, C) of ``target`` (C, i.e. background: all zeros)."""
    C = input.shape[1]
    onehot = torch.nn.functional.one_hot(target.clamp(0, C), C + 1)[:, :C].to(input.dtype)
    return input.sigmoid(), onehot


def _class_weight(weight, target, C):
    return weight[target.clamp(max=C - 1)].unsqueeze(1) if weight.numel() else 1.0


def sigmoid_focal_loss_forward(input, target, weight, output, gamma, alpha):
    """mmcv ``_ext.sigmoid_focal_loss_forward`` (Lin et al. 2017, Eq. 5 with α): fills ``output``
    (N, C) with -α (1-p)^γ log p on the target class and -(1-α) p^γ log(1-p) elsewhere."""
    p, pos = _focal_parts(input, target)
    tiny = torch.finfo(torch.float32).tiny
    loss = (-pos * alpha * (1 - p).pow(gamma) * p.clamp(min=tiny).log()
            - (1 - pos) * (1 - alpha) * p.pow(gamma) * (1 - p).clamp(min=tiny).log())
    output.copy_(loss * _class_weight(weight, target, input.shape[1]))


def sigmoid_focal_loss_backward(input, target, weight, grad_input, gamma, alpha):
    """mmcv ``_ext.sigmoid_focal_loss_backward``: d loss / d x, element-wise."""
    p, pos = _focal_parts(input, target)
    tiny = torch.finfo(torch.float32).tiny
    d_pos = (1 - p).pow(gamma) * (1 - p - gamma * p * p.clamp(min=tiny).log())
    d_neg = p.pow(gamma) * (gamma * (1 - p) * (1 - p).clamp(min=tiny).log() - p)
    grad = -pos * alpha * d_pos - (1 - pos) * (1 - alpha) * d_neg
    grad_input.copy_(grad * _class_weight(weight, target, input.shape[1]))


def _deform_attn(value, shapes, sampling_locations, attention_weights):
    from mmcv.ops.multi_scale_deform_attn import multi_scale_deformable_attn_pytorch
    return multi_scale_deformable_attn_pytorch(value, shapes, sampling_locations, attention_weights)


def ms_deform_attn_forward(value, spatial_shapes, level_start_index, sampling_locations,
                           attention_weights, im2col_step=64):
    """mmcv ``_ext.ms_deform_attn_forward`` (Deformable DETR, Zhu et al. 2021, Eq. 3): returns
    (B, Q, heads·C), by mmcv's own grid-sample implementation."""
    return _deform_attn(value, spatial_shapes, sampling_locations, attention_weights)


def ms_deform_attn_backward(value, spatial_shapes, level_start_index, sampling_locations,
                            attention_weights, grad_output, grad_value, grad_sampling_loc,
                            grad_attn_weight, im2col_step=64):
    """mmcv ``_ext.ms_deform_attn_backward``: fills the three gradients in place (autograd through
    the forward above)."""
    inputs = [t.detach().requires_grad_() for t in (value, sampling_locations, attention_weights)]
    with torch.enable_grad():
        out = _deform_attn(inputs[0], spatial_shapes, inputs[1], inputs[2])
        grads = torch.autograd.grad(out, inputs, grad_output)
    for target, grad in zip((grad_value, grad_sampling_loc, grad_attn_weight), grads):
        target.copy_(grad)


class TorchvisionOps(types.ModuleType):
    """Stands in for ``mmcv._ext``: the ops above, and a raising stub for any other name."""

    def __init__(self):
        super().__init__('mmcv._ext')
        self.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
        self.nms = nms
        self.roi_align_forward = roi_align_forward
        self.roi_align_backward = roi_align_backward
        self.sigmoid_focal_loss_forward = sigmoid_focal_loss_forward
        self.sigmoid_focal_loss_backward = sigmoid_focal_loss_backward
        self.ms_deform_attn_forward = ms_deform_attn_forward
        self.ms_deform_attn_backward = ms_deform_attn_backward

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
