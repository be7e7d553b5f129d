from .denseclip import DenseCLIP
from .dinoiser import CLIPDINOiser, correlation_pool
from .zero_shot import ZeroShotSegmentor

__all__ = ['ZeroShotSegmentor', 'CLIPDINOiser', 'correlation_pool', 'DenseCLIP']
