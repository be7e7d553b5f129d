"""Models registered into mmseg (and mmdet when installed): adapter → prior/head → segmentor."""
import importlib.util

from .attention import *  # noqa: F401,F403
from .backbones import CLIPResNet, CLIPViT, build_clip_adapter
from .clip import WeightsUnavailableError, create_clip
from .data_preprocessor import MixedSizeSegDataPreProcessor
from .context_decoder import ContextDecoder
from .heads import DenseCLIPHead
from .pamr import PAMR
from .segmentors import CLIPDINOiser, DenseCLIP, ZeroShotSegmentor
from .teachers import DINOTeacher, FOUNDBackground
from .text import TextClassifier, parse_classes

__all__ = ['CLIPViT', 'CLIPResNet', 'build_clip_adapter', 'create_clip', 'WeightsUnavailableError',
           'PAMR', 'ZeroShotSegmentor', 'TextClassifier', 'parse_classes']

if importlib.util.find_spec('mmdet') is not None:   # detection needs mmdet (in the onedl set)
    from ..compat import quiet
    quiet.import_mmdet_quietly()
    from . import detectors  # noqa: F401,E402
