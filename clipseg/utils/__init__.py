from .image_io import load_image

__all__ = ['load_image']
