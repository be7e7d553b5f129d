"""DenseCLIP segmentor: a CLIP image backbone with multi-level outputs + the pixel-text head."""
from typing import Optional

from mmengine.config import ConfigDict

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from ..clip import create_clip, pixel_mean_std
from ...utils.palette import rgb_palette
from ..text import parse_classes
from ..text.text_tower import TextTower
from ..authors_init import AuthorsInit
from .trained_parts import TrainedParts


@MODELS.register_module()
class DenseCLIP(AuthorsInit, TrainedParts, EncoderDecoder):
    """mmseg's EncoderDecoder with one ``clip`` setting shared by the image backbone
    (``CLIPResNet``/``CLIPViT``, trainable, ``with_global=True``) and the ``DenseCLIPHead``'s
    frozen text tower, and one ``class_names`` list for the head.

    Predicting needs a trained model (a fitting checkpoint or a training step) unless
    ``allow_random_heads``. ``init_like_authors``: see ``models/authors_init.py``."""
    parts_name = 'trained weights (backbone, context decoder, head)'

    def __init__(self, clip: dict, class_names, backbone: dict, decode_head: dict,
                 data_preprocessor: Optional[dict] = None, allow_random_heads: bool = False,
                 init_like_authors: bool = False, **kwargs):
        clip = dict(clip)
        # one load: image tower (built at the backbone's pos_grid, if any) → backbone, text → head
        model, tokenizer = create_clip(**clip, pos_grid=backbone.get('pos_grid'))
        backbone = dict(backbone, model_name=clip.get('model_name'), visual=model.visual,
                        with_global=True)
        backbone.setdefault('frozen', False)
        backbone.setdefault('attention', 'vanilla')
        if 'ResNet' in str(backbone.get('type')):
            backbone.setdefault('out_indices', (0, 1, 2, 3))
        else:  # ViT: 4 evenly spaced blocks, turned into strides 4-32
            backbone.setdefault('out_indices', (3, 5, 7, 11))
            backbone.setdefault('multiscale', True)
        names = [n[0] for n in parse_classes(class_names)]
        decode_head = dict(decode_head, clip=clip, class_names=names, num_classes=len(names),
                           clip_model=TextTower(model), tokenizer=tokenizer)
        if data_preprocessor is None:   # the weights' own mean/std (open_clip's preprocess_cfg)
            mean, std = pixel_mean_std(model)
            data_preprocessor = dict(type='mmseg.SegDataPreProcessor', mean=mean, std=std,
                                     bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        kwargs['test_cfg'] = ConfigDict(kwargs.get('test_cfg') or dict(mode='whole'))
        super().__init__(backbone=backbone, decode_head=decode_head,
                         data_preprocessor=data_preprocessor, **kwargs)
        self.dataset_meta = dict(classes=names, palette=rgb_palette(len(names)))
        self.init_trained_parts(allow_random_heads)
        self.init_like_authors = init_like_authors

    def encode_decode(self, inputs, batch_img_metas):
        self.check_parts_ready()
        return super().encode_decode(inputs, batch_img_metas)

    def loss(self, inputs, data_samples):
        self.parts_ready = True
        return super().loss(inputs, data_samples)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint must hold this model's keys with its shapes (else an error)."""
        self.check_checkpoint(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.parts_ready = True
