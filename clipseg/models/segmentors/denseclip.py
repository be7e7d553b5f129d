"""DenseCLIP segmentor: a CLIP image backbone with multi-level outputs + the pixel-text head."""
from typing import Optional

from mmengine.config import ConfigDict

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from ..text import parse_classes
from .zero_shot import OPENAI_MEAN, OPENAI_STD


@MODELS.register_module()
class DenseCLIP(EncoderDecoder):
    """mmseg's EncoderDecoder with one ``clip`` setting shared by the image backbone
    (``CLIPResNet``/``CLIPViT``, trainable, ``with_global=True``) and the ``DenseCLIPHead``'s
    frozen text tower, and one ``class_names`` list for the head."""

    def __init__(self, clip: dict, class_names, backbone: dict, decode_head: dict,
                 data_preprocessor: Optional[dict] = None, **kwargs):
        clip = dict(clip)
        backbone = dict(backbone, model_name=clip.get('model_name'), pretrained=clip.get('pretrained'),
                        model_cfg=clip.get('model_cfg'), with_global=True)
        backbone.setdefault('frozen', False)
        backbone.setdefault('attention', 'vanilla')
        if 'ResNet' in str(backbone.get('type')):
            backbone.setdefault('out_indices', (0, 1, 2, 3))
        else:  # ViT: 4 evenly spaced blocks, turned into strides 4-32
            backbone.setdefault('out_indices', (3, 5, 7, 11))
            backbone.setdefault('multiscale', True)
        names = [n[0] for n in parse_classes(class_names)]
        decode_head = dict(decode_head, clip=clip, class_names=names, num_classes=len(names))
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmseg.SegDataPreProcessor', mean=OPENAI_MEAN,
                                     std=OPENAI_STD, bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        kwargs['test_cfg'] = ConfigDict(kwargs.get('test_cfg') or dict(mode='whole'))
        super().__init__(backbone=backbone, decode_head=decode_head,
                         data_preprocessor=data_preprocessor, **kwargs)
