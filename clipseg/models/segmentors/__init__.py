from .zero_shot import ZeroShotSegmentor

__all__ = ['ZeroShotSegmentor']
