from .denseclip import DenseCLIP
from .dinoiser import CLIPDINOiser, correlation_pool
from .found_decoder import FOUNDDecoder
from .zero_shot import ZeroShotSegmentor

__all__ = ['ZeroShotSegmentor', 'CLIPDINOiser', 'correlation_pool', 'DenseCLIP', 'FOUNDDecoder']
