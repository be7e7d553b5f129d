from .pixel_text_head import DenseCLIPHead

__all__ = ['DenseCLIPHead']
