"""Fill the two gaps of the upstream OpenMMLab set (mmcv-lite + mmengine 0.10.7) on today's torch.

1. mmcv-lite ships no compiled ops, yet ``mmseg.utils`` imports ``mmcv.ops`` at import time, which
   imports ``mmcv._ext`` and checks that each op is there: ``clipseg.compat.mmcv_ops`` stands in
   (installed by ``compat.install`` before this runs).
2. torch>=2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 checkpoints hold a
   ``HistoryBuffer`` and numpy scalars (mmengine issue #1655). We allow exactly those types with
   ``torch.serialization.add_safe_globals``, the one allow-list of ``safe_loading``; safe loading
   stays on.

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
    import torch
    from .safe_loading import runner_safe_globals
    torch.serialization.add_safe_globals([t for t in runner_safe_globals() if not isinstance(t, tuple)])


def apply() -> None:
    """Apply what the installed OpenMMLab set needs; idempotent, a no-op for the onedl fork."""
    if _installed('mmengine'):
        _allow_mmengine_checkpoint_types()
