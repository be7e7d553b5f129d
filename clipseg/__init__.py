"""clipseg: open-vocabulary dense prediction on CLIP, registered into mmseg.

``import clipseg`` (or ``custom_imports=dict(imports=['clipseg'])`` in an mmseg config) registers
every module into mmseg's registries.
"""
from . import quiet

quiet.filter_warnings()
try:
    import mmseg  # noqa: F401
except ImportError as err:  # pragma: no cover
    raise ImportError('clipseg needs an OpenMMLab stack: pip install "clipseg[onedl]" '
                      '(or "clipseg[upstream]")') from err

from . import mmcv_lite_compat, mmcv_ops_fallback

mmcv_ops_fallback.install()   # before anything imports mmcv.ops (mmdet does)
mmcv_lite_compat.apply()
quiet.import_mmseg_quietly()

from . import safe_loading  # noqa: E402

safe_loading.install()

from .engine import atomic_backend  # noqa: E402

atomic_backend.install()   # Runner checkpoints written atomically

from . import datasets, engine, models  # noqa: E402,F401
from .apis import (detect, init_model, list_configs, list_models,  # noqa: E402
                   mmseg_inferencer, segment)

__version__ = '0.1.0'
__all__ = ['init_model', 'segment', 'detect', 'list_configs', 'list_models', 'mmseg_inferencer',
           '__version__']
