"""The public face: build a segmentor from a config or name, segment images with class names."""
import copy
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmseg.registry import MODELS
from .configs import DEFAULT_CONFIG, find_config, is_detection_config
from ..models.clip import override_weights
from ..utils import load_image

ImageInput = Union[str, os.PathLike, np.ndarray]


def init_model(config_or_name: Union[str, os.PathLike, Config] = DEFAULT_CONFIG,
               weights: Optional[str] = None,
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               classes=None,
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a segmentor in eval mode.

    Args:
        config_or_name: config file, config name under ``configs/``, or a ``Config``.
        weights: CLIP weights overriding the config's: pretrained tag or local file.
        checkpoint: trained clipseg checkpoint (e.g. CLIP-DINOiser heads) to load on top.
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``...
        classes: class list to use instead of the config's.
    """
    cfg = load_config(config_or_name, weights, cfg_options)
    registry = enter_world(cfg)     # each world builds under its own scope, whatever came before
    model = registry.build(cfg.model)
    if checkpoint is not None:
        from mmengine.runner import load_checkpoint
        load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
    if classes is not None:
        model.set_classes(classes)
    model.cfg = cfg
    return model.to(device).eval()


def load_config(config_or_name, weights: Optional[str] = None,
                cfg_options: Optional[dict] = None) -> Config:
    """The config with the user's overrides, in the one order every entry point uses
    (``init_model``, the inferencer, ``tools/test.py``, ``tools/reproduce.py``): ``cfg_options``
    first, then the CLIP ``weights`` (a tag, a local file or an hf-hub name)."""
    cfg = find_config(config_or_name)
    if is_detection_config(cfg):
        require_mmdet()
    if 'config' in cfg.model.get('segmentor', {}):   # an instance config naming its segmentation config
        from ..models.dense_regions import segmentor_config
        cfg.model.segmentor = segmentor_config(cfg.model.segmentor.to_dict())
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if weights:
        override_weights(clip_config(cfg.model), weights)
    return cfg


def require_mmdet() -> None:
    """Detection configs build mmdet models: a clear error where mmdet is not installed."""
    import importlib.util
    if importlib.util.find_spec('mmdet') is None:
        raise ImportError('detection configs need mmdet: pip install "clipseg[det]" '
                          '(onedl-mmdetection)')


def enter_world(cfg: Config):
    """Make the config's world (``default_scope``: mmseg or mmdet) the current scope; → the
    registry its models build from."""
    from mmengine.registry import init_default_scope
    if is_detection_config(cfg):
        require_mmdet()
        from mmdet.registry import MODELS as DET_MODELS
        init_default_scope('mmdet')
        return DET_MODELS
    init_default_scope('mmseg')
    return MODELS


def clip_config(model_cfg: dict) -> dict:
    """The ``clip`` settings of a model config: its own, or its wrapped segmentor's."""
    if 'clip' in model_cfg:
        return model_cfg['clip']
    if 'clip' in model_cfg.get('segmentor', {}):
        return model_cfg['segmentor']['clip']
    raise KeyError('the model config has no clip settings (model.clip or model.segmentor.clip)')


def image_pipeline(cfg: Config) -> Compose:
    """The config's test pipeline for in-memory images: ``LoadImageFromNDArray`` instead of
    reading a file, no annotations; built in the config's world (mmseg or mmdet)."""
    pipeline = cfg.get('test_pipeline') or cfg.test_dataloader.dataset.pipeline
    steps = []
    for step in copy.deepcopy(pipeline):
        name = step['type'].split('.')[-1]
        if name == 'LoadImageFromFile':
            step = dict(type='LoadImageFromNDArray')
        elif name == 'LoadAnnotations':
            continue
        steps.append(step)
    enter_world(cfg)
    return Compose(steps)


def image_list(images) -> Tuple[bool, list]:
    """(whether one image was given, the images as a list); no images is an error."""
    single = isinstance(images, (str, os.PathLike, np.ndarray))
    items = [images] if single else list(images)
    if not items:
        raise ValueError('no images given')
    return single, items


def prepare(pipeline: Compose, item: ImageInput, index: int, single: bool) -> dict:
    """One image (path or array) through the test pipeline; an image the pipeline cannot take
    (e.g. so thin that resizing leaves no row) is an error naming it."""
    image = load_image(item)
    try:
        return pipeline(dict(img=image))
    except Exception as err:  # noqa: BLE001 - cv2/mmcv errors on degenerate sizes
        name = item if isinstance(item, (str, os.PathLike)) else ('image' if single else f'image {index}')
        raise ValueError(f'{name}: a {image.shape[1]}×{image.shape[0]} image cannot be resized for '
                         f'this model ({type(err).__name__}: {str(err).strip()})') from None


@torch.no_grad()
def segment(model: torch.nn.Module,
            images: Union[ImageInput, Sequence[ImageInput]],
            classes=None,
            batch_size: int = 4,
            prob_thd: Optional[float] = None,
            bg_idx: int = 0) -> Union[Dict, List[Dict]]:
    """Segment one image or a list of images (paths or (H, W, 3) BGR arrays).

    Returns, per image, a dict: ``label_map`` (H, W) int64 class indices, ``classes`` (names),
    ``class_scores`` (K,) mean probability of each class over the image, ``pixel_share`` (K,)
    fraction of pixels labelled with each class. ``prob_thd`` (zero-shot models): for this call
    only, pixels whose best class probability is below it get class ``bg_idx``; the model's
    ``test_cfg`` is left as it is (so concurrent calls do not see each other's threshold).
    """
    if is_detection_config(model.cfg):
        raise TypeError('this is a detection model (boxes and masks): use clipseg.detect, or a '
                        'segmentation config with clipseg.segment')
    overrides = {}
    if prob_thd is not None:
        if 'prob_thd' in (getattr(model, 'test_cfg', None) or {}):
            overrides = dict(prob_thd=float(prob_thd), bg_idx=int(bg_idx))
        elif prob_thd:
            raise ValueError(f'{type(model).__name__} has no probability threshold')
    single, items = image_list(images)
    if classes is not None:
        model.set_classes(classes)
    names = model.class_embeddings().names
    pipeline = image_pipeline(model.cfg)
    results = []
    for start in range(0, len(items), batch_size):
        batch = [prepare(pipeline, item, start + i, single)
                 for i, item in enumerate(items[start:start + batch_size])]
        for packed in batch:
            packed['data_samples'].set_metainfo(overrides)
        for sample in model.test_step(pseudo_collate(batch)):
            labels = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.int64, copy=False)
            K = len(names)
            share = np.bincount(labels.ravel(), minlength=K)[:K] / labels.size
            if 'class_scores' in sample:
                scores = sample.class_scores.cpu().numpy()
            elif 'seg_logits' in sample:
                scores = sample.seg_logits.data.float().mean(dim=(1, 2)).cpu().numpy()
            else:
                scores = share
            results.append(dict(label_map=labels, classes=list(names),
                                class_scores=scores, pixel_share=share))
    return results[0] if single else results
