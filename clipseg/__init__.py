"""clipseg: open-vocabulary dense prediction on CLIP, registered into mmseg.

``import clipseg`` (or ``custom_imports=dict(imports=['clipseg'])`` in an mmseg config) registers
every module into mmseg's (and mmdet's) registries, like ``register_all_modules()``. The one
exception is the ``clipseg`` command itself: it registers when it first builds a model, so that
its help and its argument errors come without importing torch.
"""
import os
import sys

__version__ = '0.1.0'
__all__ = ['init_model', 'segment', 'detect', 'classify_masks', 'list_configs', 'list_models',
           'mmseg_inferencer', 'det_inferencer', 'register_all_modules', '__version__']
_API = ('init_model', 'segment', 'detect', 'classify_masks', 'list_configs', 'list_models',
        'mmseg_inferencer', 'det_inferencer')
_SUBPACKAGES = ('apis', 'compat', 'datasets', 'engine', 'evaluation', 'models', 'retrieval',
                'utils')
_registered = False


def register_all_modules() -> None:
    """Register clipseg's models, datasets, transforms and hooks into mmseg/mmdet; idempotent."""
    global _registered
    if _registered:
        return
    from . import compat
    compat.install()
    from . import datasets, engine, evaluation, models  # noqa: F401
    models.import_all()
    _registered = True


def __getattr__(name):
    import importlib
    if name in _API:
        register_all_modules()
        from .apis import _HOMES
        return getattr(importlib.import_module(f'.apis.{_HOMES[name]}', __name__), name)
    if name in _SUBPACKAGES:
        return importlib.import_module(f'.{name}', __name__)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def _is_the_command() -> bool:
    """This process is the ``clipseg`` console script (pip's launcher imports us first)."""
    argv0 = os.path.basename(sys.argv[0]) if getattr(sys, 'argv', None) else ''
    return os.path.splitext(argv0)[0] in ('clipseg', 'clipseg-script')


if not _is_the_command():
    register_all_modules()
