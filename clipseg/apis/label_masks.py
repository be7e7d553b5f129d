"""Name any masks with free text ("semantic segment anything"): read masks from files, classify
them with an OVSeg model, paint the semantic map."""
import json
import os
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from ..utils import load_image
from ..utils.image_io import IMAGE_SUFFIXES

MaskInput = Union[str, os.PathLike, np.ndarray, torch.Tensor, Sequence[np.ndarray]]


def read_masks(source: Union[str, os.PathLike], shape: Tuple[int, int]) -> Tuple[np.ndarray, List[str]]:
    """Masks for an image of ``shape`` (H, W) → ((N, H, W) bool, a name per mask).

    ``source``: a folder of mask images (one mask per file, non-zero = inside, sorted by name), an
    ``.npz`` (array ``masks`` (N, H, W), or an (H, W) id map: one mask per non-zero id), an id-map
    ``.png``, or a COCO ``.json`` (a list of annotations or a dict with ``annotations``, each with
    an RLE or polygon ``segmentation``; needs pycocotools, from ``clipseg[det]``)."""
    path = os.fspath(source)
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.lower().endswith(IMAGE_SUFFIXES))
        if not files:
            raise FileNotFoundError(f'no mask images ({", ".join(IMAGE_SUFFIXES)}) in {path!r}')
        masks = []
        for f in files:
            m = cv2.imread(os.path.join(path, f), cv2.IMREAD_UNCHANGED)
            if m is None:
                raise ValueError(f'cannot read mask {os.path.join(path, f)!r}: not an image')
            masks.append(_fits(m.any(-1) if m.ndim == 3 else m > 0, shape, os.path.join(path, f)))
        return np.stack(masks), [os.path.splitext(f)[0] for f in files]
    if not os.path.isfile(path):
        raise FileNotFoundError(f'masks not found: {path!r}')
    lower = path.lower()
    if lower.endswith('.npz'):
        with np.load(path, allow_pickle=False) as data:
            key = 'masks' if 'masks' in data else (data.files[0] if len(data.files) == 1 else None)
            if key is None:
                raise ValueError(f'{path}: no array "masks" (has {sorted(data.files)})')
            arr = data[key]
        return _from_array(arr, shape, path)
    if lower.endswith('.json'):
        return _from_coco(path, shape)
    if lower.endswith(IMAGE_SUFFIXES):
        arr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if arr is None or arr.ndim != 2:
            raise ValueError(f'{path}: not a single-channel id map image')
        return _from_array(arr, shape, path)
    raise ValueError(f'{path}: masks must be a folder of images, .npz, .png id map or COCO .json')


def _fits(mask: np.ndarray, shape, where: str) -> np.ndarray:
    if tuple(mask.shape) != tuple(shape):
        raise ValueError(f'mask {where!r} is {mask.shape[1]}x{mask.shape[0]} but the image is '
                         f'{shape[1]}x{shape[0]}: masks must match the image')
    return mask.astype(bool)


def _from_array(arr: np.ndarray, shape, path: str):
    if arr.ndim == 3:
        return np.stack([_fits(m > 0, shape, f'{path}[{i}]') for i, m in enumerate(arr)]), \
            [str(i) for i in range(len(arr))]
    if arr.ndim == 2 and (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        ids = [int(i) for i in np.unique(arr) if i != 0]
        if not ids:
            raise ValueError(f'{path}: the id map has no non-zero region')
        _fits(arr, shape, path)
        return np.stack([arr == i for i in ids]), [str(i) for i in ids]
    raise ValueError(f'{path}: expected (N, H, W) masks or an (H, W) integer id map, got '
                     f'{arr.dtype} {arr.shape}')


def _from_coco(path: str, shape):
    try:
        from pycocotools import mask as coco_mask
    except ImportError:
        raise ImportError('COCO masks need pycocotools: pip install "clipseg[det]" '
                          '(or pip install pycocotools)') from None
    with open(path, encoding='utf-8') as f:
        data = json.load(f)
    anns = data.get('annotations', []) if isinstance(data, dict) else data
    if not isinstance(anns, list) or not anns:
        raise ValueError(f'{path}: no annotations')
    H, W = shape
    masks, names = [], []
    for i, ann in enumerate(anns):
        seg = ann.get('segmentation') if isinstance(ann, dict) else None
        if seg is None:
            raise ValueError(f'{path}: annotation {i} has no segmentation')
        if isinstance(seg, list):                                   # polygons
            rle = coco_mask.merge(coco_mask.frPyObjects(seg, H, W))
        elif isinstance(seg.get('counts'), list):                   # uncompressed RLE
            rle = coco_mask.frPyObjects(seg, *seg['size'])
        else:
            rle = dict(seg, counts=seg['counts'].encode() if isinstance(seg['counts'], str)
                       else seg['counts'])
        masks.append(_fits(coco_mask.decode(rle) > 0, shape, f'{path} annotation {i}'))
        names.append(str(ann.get('id', i)))
    return np.stack(masks), names


def classify_masks(model, image, masks: MaskInput, classes=None) -> dict:
    """Label each of ``masks`` with one of ``classes`` using an OVSeg model.

    ``image``: path or (H, W, 3) BGR uint8; ``masks``: (N, H, W) array/tensor, or a path for
    ``read_masks``. Returns ``labels`` (N,) class index (-1 for an empty mask), ``scores`` (N, K)
    class probabilities, ``valid`` (N,) bool, ``classes`` (names), ``mask_names``, and
    ``label_map`` (H, W): Σ_n p_n · m_n, argmax (the OVSeg semantic map; -1 where no mask lies)."""
    from ..models.segmentors.ovseg import as_mask_stack
    if not hasattr(model, 'classify'):
        raise TypeError(f'{type(model).__name__} cannot classify masks: use an OVSeg config '
                        "(clipseg list 'ovseg_*')")
    bgr = load_image(image) if not isinstance(image, np.ndarray) else image
    names = None
    if isinstance(masks, (str, os.PathLike)):
        masks, names = read_masks(masks, bgr.shape[:2])
    stack = as_mask_stack(masks, bgr.shape[:2])
    if classes is not None:
        model.set_classes(classes)
    device = next(model.parameters()).device
    rgb = torch.from_numpy(np.ascontiguousarray(bgr[..., ::-1])).permute(2, 0, 1).float().to(device)
    with torch.no_grad():
        probs, valid = model.classify(rgb, stack.to(device))
        semantic = model.semantic(probs, stack.to(device))
    label_map = semantic.argmax(0)
    label_map[semantic.amax(0) <= 0] = -1
    labels = probs.argmax(0)
    labels[~valid] = -1
    return dict(labels=labels.cpu().numpy(), scores=probs.T.cpu().numpy(),
                valid=valid.cpu().numpy(), classes=list(model.dataset_meta['classes']),
                mask_names=names or [str(i) for i in range(stack.shape[0])],
                label_map=label_map.cpu().numpy().astype(np.int64))
