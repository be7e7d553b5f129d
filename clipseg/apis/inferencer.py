"""mmseg's ``MMSegInferencer`` and mmdet's ``DetInferencer`` on clipseg configs, with free-text
classes.

    inferencer = clipseg.mmseg_inferencer('sclip_vit-b16_openai_slide336', classes='cat,dog')
    result = inferencer('photo.jpg', out_dir='out')        # mmseg's own call and outputs
    use_classes(inferencer, 'person,car,road')               # new classes for the next calls
    detector = clipseg.det_inferencer('instances_sclip_vit-b16_openai_slide336_coco', classes='cat')
    detector('photo.jpg', out_dir='out')                     # mmdet's outputs: preds/, vis/

``MMSegInferencer`` takes no class list per call, so ``use_classes`` sets them on the model, whose
``dataset_meta`` (names and palette) mmseg's ``visualize()`` copies to the visualiser at every call
(mmseg's ``init_model`` leaves Cityscapes' there for a model without a checkpoint).
"""
import warnings
from typing import Optional

from mmseg.apis import MMSegInferencer
from .inference import load_config


def use_classes(inferencer, classes) -> None:
    """Segment (or detect) ``classes`` ('a,b', a list or a names file) from the next call on."""
    inferencer.model.set_classes(classes)
    inferencer.visualizer.dataset_meta = dict(inferencer.model.dataset_meta)


def mmseg_inferencer(config_or_name, classes=None, checkpoint: Optional[str] = None,
                     device: str = 'cpu', weights: Optional[str] = None,
                     **kwargs) -> MMSegInferencer:
    """An ``MMSegInferencer`` for a clipseg config (file, name or Config). CLIP weights come from
    the config, or ``weights`` (an open_clip tag or a local file, as ``init_model``'s);
    ``checkpoint`` is a trained clipseg checkpoint (e.g. CLIP-DINOiser heads)."""
    cfg = load_config(config_or_name, weights)
    with warnings.catch_warnings():
        # not true of clipseg models: CLIP's weights come from the config, classes from the text
        warnings.filterwarnings('ignore', message='Checkpoint is not loaded')
        warnings.filterwarnings('ignore', message='weights is None, use cityscapes classes')
        inferencer = MMSegInferencer(model=cfg, weights=checkpoint, device=device, **kwargs)
    if classes is not None or inferencer.model.class_names is not None:
        use_classes(inferencer, classes if classes is not None else inferencer.model.class_names)
    return inferencer


def det_inferencer(config_or_name, classes=None, checkpoint: Optional[str] = None,
                   device: str = 'cpu', weights: Optional[str] = None, **kwargs):
    """An mmdet ``DetInferencer`` for a clipseg detection config (``instances_*``: free-text
    classes; DenseCLIP's COCO detectors: their 80 classes, ``checkpoint`` required to predict).
    ``weights``: CLIP weights (tag or local file), as ``init_model``'s."""
    from mmdet.apis import DetInferencer
    from .inference import enter_world, is_detection_config
    cfg = load_config(config_or_name, weights)
    if not is_detection_config(cfg):
        raise TypeError('this is a segmentation config: use clipseg.mmseg_inferencer, or a '
                        'detection config (clipseg.list_configs("instances_*"))')
    enter_world(cfg)
    with warnings.catch_warnings():
        # not true of clipseg models: CLIP's weights come from the config, classes from the text
        warnings.filterwarnings('ignore', message='Checkpoint is not loaded')
        warnings.filterwarnings('ignore', message='weights is None')
        inferencer = DetInferencer(model=cfg, weights=checkpoint, device=device,
                                   show_progress=False, **kwargs)
    if classes is not None:
        use_classes(inferencer, classes)
    elif inferencer.model.dataset_meta:
        inferencer.visualizer.dataset_meta = dict(inferencer.model.dataset_meta)
    return inferencer
