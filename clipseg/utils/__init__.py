"""Small shared utilities: atomic writes, image reading with a pixel limit, palettes, errors."""
from .atomic import (check_suffix, clean_stale_temps, ensure_writable, terminate_as_interrupt,
                     write_atomically)
from .image_io import MAX_PIXELS, load_image

__all__ = ['load_image', 'MAX_PIXELS', 'write_atomically', 'ensure_writable', 'check_suffix',
           'clean_stale_temps', 'terminate_as_interrupt']
