"""Generate a small segmentation dataset in mmseg's layout: coloured shapes on textured backgrounds.

    python tools/make_synthetic_dataset.py OUT [--train 400] [--val 50] [--size 128] [--seed 0]

Writes OUT/img_dir/{train,val}/*.png (BGR images), OUT/ann_dir/{train,val}/*.png (label maps,
0 = background) and OUT/class_names.txt. Each class is a colour and a shape ("red circle").
"""
import argparse
import os

import cv2
import numpy as np

CLASSES = ('background', 'red circle', 'green square', 'blue triangle', 'yellow star')
COLOURS = {1: (40, 40, 220), 2: (60, 200, 60), 3: (220, 80, 40), 4: (40, 220, 230)}  # BGR


def textured_background(rng, size):
    """Low-frequency noise plus stripes in muted tones."""
    base = rng.integers(70, 170, 3)
    noise = cv2.resize(rng.normal(0, 25, (size // 8, size // 8, 3)), (size, size))
    yy, xx = np.mgrid[:size, :size]
    angle, period = rng.uniform(0, np.pi), rng.uniform(6, 20)
    stripes = 15 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
    img = base[None, None] + noise + stripes[..., None]
    return np.clip(img, 0, 255)


def shape_mask(rng, cls, size):
    mask = np.zeros((size, size), np.uint8)
    r = int(rng.integers(size // 10, size // 4))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    if cls == 1:
        cv2.circle(mask, (cx, cy), r, 1, -1)
    elif cls == 2:
        cv2.rectangle(mask, (cx - r, cy - r), (cx + r, cy + r), 1, -1)
    elif cls == 3:
        pts = np.array([[cx, cy - r], [cx - r, cy + r], [cx + r, cy + r]], np.int32)
        cv2.fillPoly(mask, [pts], 1)
    else:
        angles = np.arange(10) * np.pi / 5 - np.pi / 2
        radii = np.where(np.arange(10) % 2 == 0, r, r * 0.45)
        pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).astype(np.int32)
        cv2.fillPoly(mask, [pts], 1)
    return mask.astype(bool)


def make_sample(rng, size):
    img = textured_background(rng, size)
    labels = np.zeros((size, size), np.uint8)
    for _ in range(int(rng.integers(1, 4))):
        cls = int(rng.integers(1, len(CLASSES)))
        mask = shape_mask(rng, cls, size)
        colour = np.clip(np.array(COLOURS[cls]) + rng.normal(0, 15, 3), 0, 255)
        texture = rng.normal(0, 12, (size, size, 1))
        img[mask] = np.clip(colour[None] + texture[mask], 0, 255)
        labels[mask] = cls
    return img.astype(np.uint8), labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--train', type=int, default=400)
    parser.add_argument('--val', type=int, default=50)
    parser.add_argument('--size', type=int, default=128)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for split, n in (('train', args.train), ('val', args.val)):
        for sub in ('img_dir', 'ann_dir'):
            os.makedirs(os.path.join(args.out, sub, split), exist_ok=True)
        for i in range(n):
            img, labels = make_sample(rng, args.size)
            cv2.imwrite(os.path.join(args.out, 'img_dir', split, f'{i:05d}.png'), img)
            cv2.imwrite(os.path.join(args.out, 'ann_dir', split, f'{i:05d}.png'), labels)
    with open(os.path.join(args.out, 'class_names.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    print(f'wrote {args.train} train and {args.val} val images of {args.size}px to {args.out}')


if __name__ == '__main__':
    main()
