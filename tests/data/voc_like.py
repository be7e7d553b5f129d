"""A stand-in for ``../shared/data/voc_mini`` that a clone of the repository can build: three
photo-sized JPEGs with the same names and sizes, drawn procedurally (sky/ground gradients, noise
and a few filled shapes), with 21-class palette masks (shapes labelled with VOC classes, a 255
ignore border around each), in the VOC layout mmseg's ``PascalVOCDataset`` reads."""
from pathlib import Path

import cv2
import numpy as np

VOC_NAMES = ['background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle', 'bus', 'car', 'cat',
             'chair', 'cow', 'diningtable', 'dog', 'horse', 'motorbike', 'person', 'pottedplant',
             'sheep', 'sofa', 'train', 'tvmonitor']
# name, (width, height), shapes: (class, kind, centre x, centre y, size)
IMAGES = [('2011_000003', (500, 338), [(15, 'rect', 180, 200, 90), (5, 'circle', 380, 230, 40)]),
          ('2011_000006', (500, 375), [(15, 'rect', 140, 190, 70), (9, 'rect', 300, 260, 60),
                                       (18, 'circle', 410, 150, 55)]),
          ('2011_000025', (500, 375), [(6, 'rect', 220, 200, 120), (7, 'circle', 420, 280, 45)])]


def voc_palette() -> np.ndarray:
    """VOC's (256, 3) RGB palette (bit-interleaved label colours)."""
    pal = np.zeros((256, 3), np.uint8)
    for k in range(256):
        c, r, g, b = k, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        pal[k] = (r, g, b)
    return pal


def make_voc_like(root) -> Path:
    """Write the stand-in under ``root`` (created); → ``root``."""
    from PIL import Image
    root = Path(root)
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(2011)
    for name, (w, h), shapes in IMAGES:
        y = np.linspace(0, 1, h)[:, None, None]
        sky, ground = np.array([235, 190, 120]), np.array([60, 110, 90])     # BGR
        img = np.where(y < 0.55, sky * (1 - 0.4 * y), ground * (0.7 + 0.5 * y)) * np.ones((1, w, 1))
        img = np.clip(img + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
        mask = np.zeros((h, w), np.uint8)
        for cls, kind, cx, cy, s in shapes:
            colour = tuple(int(v) for v in rng.integers(20, 235, 3))
            draw = np.zeros((h, w), np.uint8)
            if kind == 'rect':
                cv2.rectangle(draw, (cx - s, cy - s // 2), (cx + s, cy + s // 2), 1, -1)
            else:
                cv2.circle(draw, (cx, cy), s, 1, -1)
            edge = cv2.dilate(draw, np.ones((5, 5), np.uint8)) - cv2.erode(draw, np.ones((5, 5), np.uint8))
            img[draw > 0] = colour
            mask[draw > 0] = cls
            mask[edge > 0] = 255                              # VOC's ignore border
        cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        png = Image.fromarray(mask, mode='P')
        png.putpalette(voc_palette().flatten().tolist())
        png.save(root / 'SegmentationClass' / f'{name}.png')
    (root / 'ImageSets' / 'Segmentation' / 'val.txt').write_text(
        ''.join(f'{name}\n' for name, _, _ in IMAGES))
    (root / 'class_names.txt').write_text(''.join(f'{n}\n' for n in ['_background_'] + VOC_NAMES[1:]))
    return root
