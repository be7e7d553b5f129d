from .atomic import ensure_writable, terminate_as_interrupt, write_atomically
from .image_io import load_image

__all__ = ['load_image', 'write_atomically', 'ensure_writable', 'terminate_as_interrupt']
