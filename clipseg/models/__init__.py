"""Models registered into mmseg (and mmdet when installed): adapter → prior/head → segmentor.

Importing a submodule registers its classes; ``import_all`` imports every one (what
``clipseg.register_all_modules`` runs). The names below load on first use.
"""
import importlib
import importlib.util

_SUBMODULES = ('attention', 'backbones', 'clip', 'text', 'pamr', 'context_decoder',
               'data_preprocessor', 'proxies', 'masks', 'heads', 'teachers', 'segmentors')
_NAMES = {'PAMR': 'pamr', 'ContextDecoder': 'context_decoder',
          'MixedSizeSegDataPreProcessor': 'data_preprocessor'}
__all__ = ['CLIPViT', 'CLIPResNet', 'build_clip_adapter', 'create_clip', 'WeightsUnavailableError',
           'PAMR', 'ZeroShotSegmentor', 'TextClassifier', 'parse_classes']


def import_all() -> None:
    """Import, and so register, every model module (the detectors only when mmdet is installed)."""
    for name in _SUBMODULES:
        importlib.import_module(f'.{name}', __name__)
    if importlib.util.find_spec('mmdet') is not None:   # detection needs mmdet (clipseg[det])
        from ..compat import quiet
        quiet.import_mmdet_quietly()
        importlib.import_module('.detectors', __name__)
        importlib.import_module('.proposals', __name__)


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    from .. import register_all_modules
    register_all_modules()
    if name in _SUBMODULES or name in ('detectors', 'proposals'):
        return importlib.import_module(f'.{name}', __name__)
    if name in _NAMES:
        return getattr(importlib.import_module(f'.{_NAMES[name]}', __name__), name)
    for sub in _SUBMODULES:
        module = importlib.import_module(f'.{sub}', __name__)
        if name in getattr(module, '__all__', ()):
            return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
