"""clipseg: open-vocabulary dense prediction on CLIP, registered into mmseg.

``import clipseg`` (or ``custom_imports=dict(imports=['clipseg'])`` in an mmseg config) registers
every module into mmseg's registries.
"""
from . import compat

compat.install()

from . import datasets, engine, models  # noqa: E402,F401
from .apis import (det_inferencer, detect, init_model, list_configs,  # noqa: E402
                   list_models, mmseg_inferencer, segment)

__version__ = '0.1.0'
__all__ = ['init_model', 'segment', 'detect', 'list_configs', 'list_models', 'mmseg_inferencer',
           'det_inferencer', '__version__']
