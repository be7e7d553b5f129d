"""Fill the two gaps of the upstream OpenMMLab set (mmcv-lite + mmengine 0.10.7) on today's torch.

1. mmcv-lite ships no compiled ops, yet ``mmseg.utils`` imports ``mmcv.ops`` at import time, which
   imports ``mmcv._ext`` and checks that each op is there: ``clipseg.mmcv_ops_fallback`` stands in
   (NMS and RoIAlign on torchvision, any other op failing when called, naming itself).
2. torch>=2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 checkpoints hold a
   ``HistoryBuffer`` and numpy scalars (mmengine issue #1655). We allow exactly those types with
   ``torch.serialization.add_safe_globals``; safe loading stays on.

Each step runs only when its upstream package is the one installed: with the onedl fork (the
default) or a full mmcv build this module does nothing.
"""
import importlib.machinery
import importlib.metadata
import importlib.util


def _installed(dist_name: str) -> bool:
    try:
        importlib.metadata.distribution(dist_name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


def _allow_mmengine_checkpoint_types() -> None:
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtype_classes = [type(np.dtype(t)) for t in ('float64', 'float32', 'int64', 'int32', 'bool')]
    torch.serialization.add_safe_globals(
        [HistoryBuffer, multiarray.scalar, multiarray._reconstruct, np.ndarray, np.dtype,
         *dtype_classes])


def apply() -> None:
    """Apply what the installed OpenMMLab set needs; idempotent, a no-op for the onedl fork."""
    if _installed('mmcv-lite'):
        from .mmcv_ops_fallback import install
        install()
    if _installed('mmengine'):
        _allow_mmengine_checkpoint_types()
