"""Generate a small segmentation dataset in mmseg's layout: coloured shapes on textured backgrounds.

    python tools/make_synthetic_dataset.py OUT [--train 400] [--val 50] [--size 128] [--seed 0]

Writes OUT/img_dir/{train,val}/*.png (BGR images), OUT/ann_dir/{train,val}/*.png (label maps,
0 = background), OUT/class_names.txt, and for detection OUT/annotations/instances_{train,val}.json
(COCO format: each shape's visible part as an RLE mask and its box; categories 1-4 = the shapes).
Each class is a colour and a shape ("red circle").
"""
import argparse
import importlib.util
import json
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


def make_sample(rng, size, with_instances=False):
    """→ BGR image, label map (and with ``with_instances`` a list of (class, visible mask))."""
    img = textured_background(rng, size)
    labels = np.zeros((size, size), np.uint8)
    owner = np.zeros((size, size), np.int32)   # which shape is on top at each pixel (1-based)
    classes = []
    for _ in range(int(rng.integers(1, 4))):
        cls = int(rng.integers(1, len(CLASSES)))
        mask = shape_mask(rng, cls, size)
        colour = np.clip(np.array(COLOURS[cls]) + rng.normal(0, 15, 3), 0, 255)
        texture = rng.normal(0, 12, (size, size, 1))
        img[mask] = np.clip(colour[None] + texture[mask], 0, 255)
        labels[mask] = cls
        classes.append(cls)
        owner[mask] = len(classes)
    if not with_instances:
        return img.astype(np.uint8), labels
    instances = [(c, owner == i + 1) for i, c in enumerate(classes) if (owner == i + 1).sum() >= 4]
    return img.astype(np.uint8), labels, instances


def coco_annotations(images, instances, first_id=1):
    """COCO ``images``/``annotations`` entries; masks as RLE, boxes as the mask's extent."""
    from pycocotools import mask as mask_utils
    anns = []
    for (image, found) in zip(images, instances):
        for cls, mask in found:
            ys, xs = np.nonzero(mask)
            x1, y1 = int(xs.min()), int(ys.min())
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('ascii')
            anns.append(dict(id=first_id + len(anns), image_id=image['id'], category_id=cls,
                             bbox=[x1, y1, int(xs.max()) + 1 - x1, int(ys.max()) + 1 - y1],
                             area=int(mask.sum()), segmentation=rle, iscrowd=0))
    return anns


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
        images, instances = [], []
        for i in range(n):
            img, labels, found = make_sample(rng, args.size, with_instances=True)
            cv2.imwrite(os.path.join(args.out, 'img_dir', split, f'{i:05d}.png'), img)
            cv2.imwrite(os.path.join(args.out, 'ann_dir', split, f'{i:05d}.png'), labels)
            images.append(dict(id=i + 1, file_name=f'{i:05d}.png', height=args.size,
                               width=args.size))
            instances.append(found)
        if importlib.util.find_spec('pycocotools') is None:
            print('pycocotools not installed: no COCO annotations written (detection needs them)')
            continue
        os.makedirs(os.path.join(args.out, 'annotations'), exist_ok=True)
        coco = dict(images=images, annotations=coco_annotations(images, instances),
                    categories=[dict(id=k, name=n) for k, n in enumerate(CLASSES) if k])
        with open(os.path.join(args.out, 'annotations', f'instances_{split}.json'), 'w') as f:
            json.dump(coco, f)
    with open(os.path.join(args.out, 'class_names.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    print(f'wrote {args.train} train and {args.val} val images of {args.size}px to {args.out}')


if __name__ == '__main__':
    main()
