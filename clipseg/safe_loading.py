"""Checkpoints are data, never code: every checkpoint clipseg or the mmengine Runner reads goes
through ``safe_load`` (``torch.load(weights_only=True)``).

Allowed beyond torch's own tensors and containers: exactly the types the mmengine Runner writes
into its checkpoints (the message hub's ``HistoryBuffer``, numpy arrays/scalars/dtypes), and
``getattr`` only in the one form those checkpoints use it (``getattr(HistoryBuffer, 'mean')`` for
its registered statistics methods). A file that needs anything else is refused with
``UnsafeCheckpointError`` naming the offending types; there is no silent fallback to unsafe
loading. ``allow_unsafe_loading()`` (``--unsafe-load`` in the tools, or ``CLIPSEG_UNSAFE_LOAD=1``)
is the explicit opt-in for files the user trusts.

``install()`` routes mmengine's local-file checkpoint loader (used by ``load_from``, ``--resume``,
``load_checkpoint``) through ``safe_load``; installed packages are never edited.
"""
import os
import pickle
import warnings
from typing import List

import torch

UNSAFE_ENV = 'CLIPSEG_UNSAFE_LOAD'
_unsafe = False


class UnsafeCheckpointError(pickle.UnpicklingError, ValueError):
    """A checkpoint needs types that safe loading does not allow."""


def allow_unsafe_loading(enabled: bool = True) -> None:
    """Opt in (or out) of full pickle loading for checkpoints the user trusts. Loud on purpose."""
    global _unsafe
    _unsafe = enabled
    if enabled:
        warnings.warn('UNSAFE checkpoint loading is on: a checkpoint can run arbitrary code when '
                      'loaded. Only load files you trust.', stacklevel=2)


def unsafe_loading_allowed() -> bool:
    return _unsafe or os.environ.get(UNSAFE_ENV, '').lower() in ('1', 'true', 'yes', 'on')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as mmengine checkpoints use it: a statistics method of ``HistoryBuffer``."""
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = {'min', 'max', 'current', 'mean', *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise UnsafeCheckpointError(f'checkpoint calls getattr({obj!r}, {name!r}); only '
                                'HistoryBuffer statistics methods are allowed')


def runner_safe_globals() -> List:
    """The types (and the restricted ``getattr``) mmengine Runner checkpoints hold."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtypes = {type(np.dtype(t)) for t in ('float16', 'float32', 'float64', 'int8', 'int16',
                                          'int32', 'int64', 'uint8', 'uint16', 'uint32',
                                          'uint64', 'bool')}
    return [HistoryBuffer, multiarray.scalar, multiarray._reconstruct, np.ndarray, np.dtype,
            *sorted(dtypes, key=str), (_history_buffer_getattr, 'builtins.getattr')]


def _offending_types(file) -> List[str]:
    if not isinstance(file, (str, os.PathLike)):
        return []
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(file)
    except Exception:  # noqa: BLE001 - not a zip checkpoint: the load error says enough
        return []
    allowed = {'builtins.getattr', 'mmengine.logging.history_buffer.HistoryBuffer'}
    allowed |= {f'{t.__module__}.{t.__qualname__}' for t in runner_safe_globals()
                if not isinstance(t, tuple)}
    return [name for name in found if name not in allowed]


def safe_load(file, map_location='cpu'):
    """``torch.load`` with ``weights_only=True`` and Runner types allowed; refuses anything else."""
    if unsafe_loading_allowed():
        return torch.load(file, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(runner_safe_globals()):
            return torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        name = os.fspath(file) if isinstance(file, (str, os.PathLike)) else 'checkpoint'
        bad = _offending_types(file)
        what = f'types that are not plain data: {", ".join(bad)}' if bad else f'{err}'
        raise UnsafeCheckpointError(
            f'refusing to load {name!r}: it holds {what}. Loading it could run code. If you trust '
            f'the file, pass --unsafe-load (or set {UNSAFE_ENV}=1).') from None


def load_from_local(filename, map_location):
    """mmengine's local-file scheme, through ``safe_load``."""
    filename = os.path.expanduser(filename)
    if not os.path.isfile(filename):
        raise FileNotFoundError(f'checkpoint not found: {filename!r}')
    return safe_load(filename, map_location)


def install() -> None:
    """Make mmengine's loader for local files (``load_from``, ``resume``) use ``safe_load``."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
