"""Read any image a user hands us into an (H, W, 3) uint8 BGR array (mmseg's convention).

Decompression bombs are refused before decoding: an image file's size is read from its header
and refused above ``max_pixels()`` (default PIL's own guard, 89,478,485 pixels, about 9500×9500;
``set_max_pixels`` / ``--max-pixels`` / ``CLIPSEG_MAX_PIXELS`` raise it, 0 turns it off).
"""
import os
import warnings
from typing import List, Optional, Union

import cv2
import numpy as np

MAX_PIXELS = 89_478_485      # PIL.Image.MAX_IMAGE_PIXELS: 1 GiB of 24-bit pixels / 3
MAX_PIXELS_ENV = 'CLIPSEG_MAX_PIXELS'
_limit: Optional[int] = None


class ImageTooLargeError(ValueError):
    """An image has more pixels than the configured limit."""


def set_max_pixels(limit: Optional[int]) -> None:
    """Pixels an image may have (``None``: back to the default, ``0``: no limit)."""
    global _limit
    _limit = None if limit is None else int(limit)


def max_pixels() -> int:
    if _limit is not None:
        return _limit
    env = os.environ.get(MAX_PIXELS_ENV, '').strip()
    return int(env) if env.isdigit() else MAX_PIXELS


def check_pixels(width: int, height: int, name: str) -> None:
    limit = max_pixels()
    if limit and width * height > limit:
        raise ImageTooLargeError(
            f'{name}: {width}×{height} is {width * height:,} pixels, above the limit of '
            f'{limit:,} (a decompression bomb guard). If you trust the image, raise the limit: '
            f'--max-pixels N, {MAX_PIXELS_ENV}=N or clipseg.utils.image_io.set_max_pixels(N)')


def header_size(path: str):
    """(width, height) from the file's header without decoding it; None if PIL cannot tell.
    PIL's own guard stays on (it is process-wide); it is only raised to a limit the user raised."""
    from PIL import Image
    limit = max_pixels()
    if Image.MAX_IMAGE_PIXELS is not None and (not limit or limit > Image.MAX_IMAGE_PIXELS):
        Image.MAX_IMAGE_PIXELS = limit or None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return img.size
    except Image.DecompressionBombError as err:   # PIL's own guard, at twice its limit
        import re
        found = re.search(r'\((\d+) pixels\)', str(err))
        size = f'{int(found.group(1)):,} pixels' if found else 'too many pixels'
        raise ImageTooLargeError(
            f'{path}: {size}, above the limit of {limit:,} (a decompression bomb guard). If you '
            f'trust the image, raise the limit: --max-pixels N or {MAX_PIXELS_ENV}=N') from None
    except Exception:  # noqa: BLE001 - not a format PIL knows: OpenCV decides below
        return None


def to_bgr_uint8(img: np.ndarray, name: str = 'image') -> np.ndarray:
    """Grayscale, BGRA and 16-bit/float arrays → (H, W, 3) uint8 BGR."""
    if not isinstance(img, np.ndarray) or img.ndim not in (2, 3) or img.size == 0:
        shape = getattr(img, 'shape', None)
        raise ValueError(f'{name}: expected an (H, W) or (H, W, C) image array, got shape {shape}')
    check_pixels(img.shape[1], img.shape[0], name)
    if img.dtype == np.uint16:
        img = (img.astype(np.float32) / 257.0).round().astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if img.max() <= 1.0 else 1.0
        img = np.clip(img * scale, 0, 255).round().astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ValueError(f'{name}: unsupported pixel type {img.dtype}')
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[2] != 3:
        raise ValueError(f'{name}: expected 1, 3 or 4 channels, got {img.shape[2]}')
    return np.ascontiguousarray(img)


def load_image(src: Union[str, os.PathLike, np.ndarray]) -> np.ndarray:
    """A path (EXIF orientation applied, any bit depth, gray/RGBA) or an array → (H, W, 3) BGR.
    A file above the pixel limit is refused from its header, before decoding."""
    if isinstance(src, np.ndarray):
        return to_bgr_uint8(src)
    path = os.fspath(src)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'image not found: {path!r}')
    size = header_size(path)
    if size is not None:
        check_pixels(size[0], size[1], path)
    data = np.fromfile(path, dtype=np.uint8)
    img = None
    if data.size:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
    if img is None:
        raise ValueError(f'cannot read image {path!r}: the file is empty, corrupt or not an image')
    return to_bgr_uint8(img, name=path)


IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')


def list_images(root: str) -> List[str]:
    """Image files under ``root``, recursively, sorted."""
    return sorted(os.path.join(d, f) for d, _, files in os.walk(root) for f in files
                  if f.lower().endswith(IMAGE_SUFFIXES))
