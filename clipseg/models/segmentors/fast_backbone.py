"""Inference options for a frozen backbone: autocast precision, channels-last layout, torch.compile."""
import contextlib
from typing import Callable, Optional, Tuple, Union

import torch
from torch import Tensor, nn

PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16,
              'fp16_cuda': torch.float16}   # fp16 on CUDA, fp32 elsewhere (the authors' GPU runs)


def check_options(precision: str, channels_last: bool, compile: Union[bool, dict]) -> None:
    """Raise a clear error for a bad ``precision`` / ``channels_last`` / ``compile`` value."""
    if precision not in PRECISIONS:
        raise ValueError(f'test_cfg.precision must be one of {sorted(PRECISIONS)}, got {precision!r}')
    if not isinstance(channels_last, bool):
        raise TypeError(f'test_cfg.channels_last must be True or False, got {channels_last!r}')
    if not isinstance(compile, (bool, dict)):
        raise TypeError('test_cfg.compile must be False, True or a dict of torch.compile '
                        f'arguments (e.g. dict(mode="max-autotune")), got {compile!r}')


def autocast(device: torch.device, precision: str):
    """``torch.autocast`` to the precision's dtype on ``device``; no-op for 'fp32', and for
    'fp16_cuda' on any device but CUDA."""
    dtype = PRECISIONS[precision]
    if dtype is None or (precision == 'fp16_cuda' and device.type != 'cuda'):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


class FastBackbone:
    """Runs a backbone on (N, 3, h, w) crops with the speed options and returns its outputs as
    float32. Keeps at most one compiled function, rebuilt when the backbone or options change.
    Not an ``nn.Module`` on purpose: it holds no weights and never enters a state dict."""

    def __init__(self):
        self._compiled: Optional[Tuple[nn.Module, str, Callable]] = None
        self._channels_last: Optional[nn.Module] = None

    def __call__(self, backbone: nn.Module, crops: Tensor, precision: str = 'fp32',
                 channels_last: bool = False, compile: Union[bool, dict] = False):
        """``backbone(crops)`` with the options; a tensor, or a (nested) tuple of them, in fp32."""
        fn = backbone
        if channels_last:
            if self._channels_last is not backbone:
                backbone.to(memory_format=torch.channels_last)  # converts 4-D weights only
                self._channels_last = backbone
            crops = crops.contiguous(memory_format=torch.channels_last)
        if compile:
            opts = {} if compile is True else dict(compile)
            key = repr(sorted(opts.items()))
            if self._compiled is None or self._compiled[0] is not backbone or self._compiled[1] != key:
                self._compiled = (backbone, key, torch.compile(backbone, **opts))
            fn = self._compiled[2]
        with autocast(crops.device, precision):
            outs = fn(crops)
        return _to_float(outs)


def _to_float(x):
    if isinstance(x, Tensor):
        return x.float()
    return type(x)(_to_float(t) for t in x)
