"""Fill the two gaps of the upstream OpenMMLab set (mmcv-lite + mmengine 0.10.7) on today's torch.

1. mmcv-lite ships no compiled ops, yet ``mmseg.utils`` imports ``mmcv.ops`` at import time, which
   imports ``mmcv._ext`` and checks that each op is there. We register a placeholder module for
   ``mmcv._ext`` whose ops exist but fail when called, naming the missing op.
2. torch>=2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 checkpoints hold a
   ``HistoryBuffer`` and numpy scalars (mmengine issue #1655). We allow exactly those types with
   ``torch.serialization.add_safe_globals``; safe loading stays on.

Each step runs only when its upstream package is the one installed: with the onedl fork (the
default) or a full mmcv build this module does nothing.
"""
import importlib.machinery
import importlib.metadata
import importlib.util
import sys
import types


def _installed(dist_name: str) -> bool:
    try:
        importlib.metadata.distribution(dist_name)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


class _MissingOps(types.ModuleType):
    """Stands in for ``mmcv._ext``: every op is a function that raises, naming itself."""

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)

        def missing(*args, **kwargs):
            raise RuntimeError(f'mmcv compiled op {name!r} is not available: mmcv-lite ships no '
                               'compiled ops. Install the onedl set (pip install "clipseg[onedl]") '
                               'or a full mmcv build.')
        missing.__name__ = name
        return missing


def _install_ext_placeholder() -> None:
    if 'mmcv._ext' in sys.modules or importlib.util.find_spec('mmcv') is None:
        return
    if importlib.util.find_spec('mmcv._ext') is not None:
        return
    module = _MissingOps('mmcv._ext')
    module.__spec__ = importlib.machinery.ModuleSpec('mmcv._ext', loader=None)
    sys.modules['mmcv._ext'] = module


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
        _install_ext_placeholder()
    if _installed('mmengine'):
        _allow_mmengine_checkpoint_types()
