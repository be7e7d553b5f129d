"""The Python API: build a model by config name, segment or detect free-text classes, export.

Names are loaded on first use, so that ``clipseg.apis.configs`` (config names, no torch) stays
cheap to import.
"""
import importlib

_HOMES = {'find_config': 'configs', 'list_configs': 'configs', 'list_models': 'configs',
          'init_model': 'inference', 'segment': 'inference', 'detect': 'detect',
          'mmseg_inferencer': 'inferencer', 'det_inferencer': 'inferencer',
          'use_classes': 'inferencer', 'classify_masks': 'label_masks',
          'read_masks': 'label_masks'}
__all__ = list(_HOMES)


def __getattr__(name):
    if name not in _HOMES:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(f'.{_HOMES[name]}', __name__), name)
    globals()[name] = value      # the function, not its same-named module (``detect``)
    return value
