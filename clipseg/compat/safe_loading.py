"""Checkpoints are data, never code: every checkpoint clipseg or the mmengine Runner reads goes
through ``safe_load`` (``torch.load(weights_only=True)``).

Allowed beyond torch's own tensors and containers: exactly the types the mmengine Runner writes
into its checkpoints (the message hub's ``HistoryBuffer``, numpy arrays/scalars/dtypes), and
``getattr`` only in the one form those checkpoints use it (``getattr(HistoryBuffer, 'mean')`` for
its registered statistics methods). A file that needs anything else is refused with
``UnsafeCheckpointError`` naming the offending types; there is no silent fallback to unsafe
loading. ``allow_unsafe_loading()`` (``--unsafe-load`` in the tools, or ``CLIPSEG_UNSAFE_LOAD=1``)
is the explicit opt-in for files the user trusts.

``install()`` routes every scheme of mmengine's checkpoint loader (local files, ``http(s)://``
with its ``$TORCH_HOME/hub/checkpoints`` cache, ``torchvision://``/``modelzoo://``,
``open-mmlab://``, ``mmcls://``, ``s3://``/``petrel://``) through ``safe_load``, and refuses
``pavi://`` by name; ``load_from``, ``--resume``, ``load_checkpoint`` and ``init_cfg`` Pretrained
all land there. ``.safetensors`` files are read with safetensors (data by construction).
Installed packages are never edited.
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


UNSAFE_WARNING = ('UNSAFE checkpoint loading is on ({}): a checkpoint can run arbitrary code '
                  'when loaded. Only load files you trust.')
_env_warned = False


def allow_unsafe_loading(enabled: bool = True) -> None:
    """Opt in (or out) of full pickle loading for checkpoints the user trusts. Loud on purpose."""
    global _unsafe
    _unsafe = enabled
    if enabled:
        warnings.warn(UNSAFE_WARNING.format('--unsafe-load'), stacklevel=2)


def unsafe_loading_allowed() -> bool:
    """The flag, or ``CLIPSEG_UNSAFE_LOAD=1``; the variable warns as loudly as the flag, once."""
    global _env_warned
    if _unsafe:
        return True
    if os.environ.get(UNSAFE_ENV, '').lower() in ('1', 'true', 'yes', 'on'):
        if not _env_warned:
            _env_warned = True
            warnings.warn(UNSAFE_WARNING.format(f'{UNSAFE_ENV} is set'), stacklevel=3)
        return True
    return False


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


def _looks_like_checkpoint(file) -> bool:
    """A torch.save zip archive, or a legacy pickle (protocol 2+ starts with 0x80); True for
    anything that is not a path (the load error is then reported as it is)."""
    if not isinstance(file, (str, os.PathLike)):
        return True
    import zipfile
    try:
        with open(file, 'rb') as f:
            return zipfile.is_zipfile(f) or f.seek(0) == 0 and f.read(1) == b'\x80'
    except OSError:
        return True


def _load_safetensors(path, map_location='cpu'):
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    device = map_location if isinstance(map_location, str) else 'cpu'
    try:
        return load_file(path, device=device)
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f'cannot read {os.fspath(path)!r} as a safetensors file: {err}') from None


def safe_load(file, map_location='cpu'):
    """``torch.load`` with ``weights_only=True`` and Runner types allowed; refuses anything else.
    ``.safetensors`` files are read with safetensors."""
    if isinstance(file, (str, os.PathLike)) and os.fspath(file).endswith('.safetensors'):
        return _load_safetensors(file, map_location)
    if not _looks_like_checkpoint(file):
        raise ValueError(f'{os.fspath(file)!r} is not a PyTorch checkpoint (neither a torch.save '
                         'zip archive nor a pickle)')
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


def url_cache_path(url: str, model_dir=None) -> str:
    """Where a downloaded checkpoint is kept: torch.hub's ``<hub dir>/checkpoints/<file name>``."""
    from urllib.parse import urlparse
    model_dir = model_dir or os.path.join(torch.hub.get_dir(), 'checkpoints')
    name = os.path.basename(urlparse(url).path)
    if not name or name in ('.', '..'):
        raise ValueError(f'checkpoint URL {url!r} names no file')
    return os.path.join(model_dir, name)


def load_from_http(url, map_location=None, model_dir=None):
    """``http(s)://`` checkpoints: downloaded once into the hub cache (written to a temporary
    name, then renamed, by torch.hub), then read, like any cached copy, with ``safe_load``."""
    path = url_cache_path(url, model_dir)
    if not os.path.isfile(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, path, progress=True)
        except Exception as err:  # noqa: BLE001 - URLError, HTTPError, timeouts...
            raise OSError(f'cannot download checkpoint {url!r}: {err}. Download it elsewhere and '
                          'pass the local file') from None
    return safe_load(path, map_location or 'cpu')


def load_from_torchvision(name, map_location=None):
    """``torchvision://resnet50`` (and the old ``modelzoo://``): torchvision's URL, then http."""
    from mmengine.runner.checkpoint import get_torchvision_models
    model = name.split('://', 1)[1]
    urls = get_torchvision_models()
    if model not in urls:
        raise ValueError(f'unknown torchvision checkpoint {name!r}')
    return load_from_http(urls[model], map_location)


def load_from_openmmlab(name, map_location=None):
    """``open-mmlab://`` / ``openmmlab://``: mmengine's URL table, then http or its home folder."""
    from mmengine.runner import checkpoint as ckpt
    model = name.split('://', 1)[1]
    model = ckpt.get_deprecated_model_names().get(model, model)
    urls = ckpt.get_external_models()
    if model not in urls:
        raise ValueError(f'unknown OpenMMLab checkpoint {name!r}')
    url = urls[model]
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location)
    return load_from_local(os.path.join(ckpt._get_mmengine_home(), url), map_location)


def load_from_mmcls(name, map_location=None):
    from mmengine.runner import checkpoint as ckpt
    model = name.split('://', 1)[1]
    urls = ckpt.get_mmcls_models()
    if model not in urls:
        raise ValueError(f'unknown mmcls checkpoint {name!r}')
    return ckpt._process_mmcls_checkpoint(load_from_http(urls[model], map_location))


def load_from_ceph(name, map_location=None, backend='petrel'):
    import io
    from mmengine.fileio import get_file_backend
    data = get_file_backend(name, backend_args={'backend': backend}).get(name)
    with io.BytesIO(data) as buffer:
        return safe_load(buffer, map_location or 'cpu')


def refuse_scheme(name, map_location=None):
    scheme = name.split('://', 1)[0]
    raise ValueError(f'checkpoint {name!r}: the {scheme}:// scheme is not supported by clipseg\'s '
                     'safe loader; download the file and pass its local path')


SCHEMES = {'': load_from_local, ('http://', 'https://'): load_from_http,
           ('modelzoo://', 'torchvision://'): load_from_torchvision,
           ('open-mmlab://', 'openmmlab://'): load_from_openmmlab, 'mmcls://': load_from_mmcls,
           (r'(\S+\:)?s3://', r'(\S+\:)?petrel://'): load_from_ceph, 'pavi://': refuse_scheme}


def install() -> None:
    """Route every scheme of mmengine's checkpoint loader through ``safe_load`` (or refuse it),
    and mmengine's own ``torch.load`` helper too, for any path that calls it directly."""
    from mmengine.runner import checkpoint as ckpt
    for prefixes, loader in SCHEMES.items():
        ckpt.CheckpointLoader.register_scheme(prefixes=prefixes, loader=loader, force=True)
    known = {p for prefixes in SCHEMES for p in ((prefixes,) if isinstance(prefixes, str) else prefixes)}
    for prefix in list(ckpt.CheckpointLoader._schemes):   # a scheme some other package added
        if prefix not in known:
            ckpt.CheckpointLoader.register_scheme(prefixes=prefix, loader=refuse_scheme, force=True)
    if hasattr(ckpt, '_safe_torch_load'):
        ckpt._safe_torch_load = lambda file, map_location=None, weights_only=None: safe_load(
            file, map_location or 'cpu')
