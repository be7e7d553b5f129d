"""Segmentors: the slots (CLIP adapter → head → stitching) put together for mmseg."""
from .denseclip import DenseCLIP
from .dinoiser import CLIPDINOiser, DINOiserTraining
from .found_decoder import FOUNDDecoder
from .ovseg import OVSegSegmentor
from .reco import ReCoSegmentor
from .trident import TridentSegmentor
from .zero_shot import ZeroShotSegmentor
from ..heads import correlation_pool

__all__ = ['ZeroShotSegmentor', 'CLIPDINOiser', 'DINOiserTraining', 'correlation_pool',
           'DenseCLIP', 'FOUNDDecoder', 'TridentSegmentor', 'OVSegSegmentor',
           'ReCoSegmentor']
