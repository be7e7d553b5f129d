import cv2
import numpy as np
import pytest
from PIL import Image

from clipseg.utils import load_image


def test_corrupt_empty_and_non_image_files(tmp_path):
    (tmp_path / 'empty.jpg').write_bytes(b'')
    (tmp_path / 'notes.png').write_text('hello, not an image')
    good = cv2.imencode('.jpg', np.zeros((40, 40, 3), np.uint8))[1].tobytes()
    (tmp_path / 'cut.jpg').write_bytes(good[:30])
    for name in ('empty.jpg', 'notes.png', 'cut.jpg'):
        with pytest.raises(ValueError, match='corrupt or not an image'):
            load_image(tmp_path / name)
    with pytest.raises(FileNotFoundError, match='image not found'):
        load_image(tmp_path / 'missing.jpg')


def test_gray_rgba_and_16bit(tmp_path):
    gray = np.full((10, 12), 200, np.uint8)
    cv2.imwrite(str(tmp_path / 'g.png'), gray)
    img = load_image(tmp_path / 'g.png')
    assert img.shape == (10, 12, 3) and (img == 200).all()

    bgra = np.zeros((8, 8, 4), np.uint8)
    bgra[..., 2] = 255
    bgra[..., 3] = 10
    cv2.imwrite(str(tmp_path / 'a.png'), bgra)
    img = load_image(tmp_path / 'a.png')
    assert img.shape == (8, 8, 3) and (img[..., 2] == 255).all() and (img[..., :2] == 0).all()

    deep = np.full((6, 6, 3), 65535, np.uint16)
    deep[..., 0] = 257 * 100
    cv2.imwrite(str(tmp_path / 'd.png'), deep)
    img = load_image(tmp_path / 'd.png')
    assert img.dtype == np.uint8 and (img[..., 0] == 100).all() and (img[..., 1] == 255).all()


def test_exif_rotation_is_applied(tmp_path):
    arr = np.zeros((20, 40, 3), np.uint8)   # landscape, left half red
    arr[:, :20, 0] = 255
    exif = Image.Exif()
    exif[0x0112] = 6                        # rotate 90° clockwise on display
    Image.fromarray(arr).save(tmp_path / 'r.jpg', exif=exif, quality=95)
    img = load_image(tmp_path / 'r.jpg')
    assert img.shape == (40, 20, 3)        # displayed as portrait
    assert img[:15, :, 2].mean() > 200 and img[-15:, :, 2].mean() < 50


def test_arrays_are_checked():
    with pytest.raises(ValueError, match='expected'):
        load_image(np.zeros((4, 4, 2), np.uint8))
    assert load_image(np.zeros((3, 3), np.float32)).shape == (3, 3, 3)


def _png_header_only(path, width, height):
    """A PNG whose header claims width×height (the pixel data is a few bytes): a bomb's shape."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack('>I', len(data)) + kind + data
                + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr)
                     + chunk(b'IDAT', zlib.compress(b'\x00' * 64)) + chunk(b'IEND', b''))
    return path


def test_bombs_are_refused_from_the_header_before_decoding(tmp_path, monkeypatch):
    from clipseg.utils.image_io import ImageTooLargeError
    bomb = _png_header_only(tmp_path / 'bomb.png', 32000, 32000)
    decoded = []
    monkeypatch.setattr(cv2, 'imdecode', lambda *a: decoded.append(1))
    with pytest.raises(ImageTooLargeError, match=r'1,024,000,000 pixels, above the limit .*--max-pixels'):
        load_image(bomb)
    assert not decoded                                         # refused before any decoding
    with pytest.raises(ImageTooLargeError, match=r'12000×9000 is 108,000,000 pixels'):
        load_image(_png_header_only(tmp_path / 'big.png', 12000, 9000))
    assert not decoded


def test_the_limit_is_settable_and_applies_to_arrays(tmp_path):
    from clipseg.utils.image_io import ImageTooLargeError, set_max_pixels
    path = tmp_path / 'a.png'
    cv2.imwrite(str(path), np.zeros((20, 30, 3), np.uint8))
    set_max_pixels(500)
    try:
        with pytest.raises(ImageTooLargeError, match='600 pixels'):
            load_image(path)
        with pytest.raises(ImageTooLargeError):
            load_image(np.zeros((20, 30, 3), np.uint8))
        set_max_pixels(0)                                      # no limit
        assert load_image(path).shape == (20, 30, 3)
    finally:
        set_max_pixels(None)
    assert load_image(path).shape == (20, 30, 3)
