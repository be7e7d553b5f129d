"""SAM's image encoder as the proxy (the ``segment-anything`` package, optional extra ``[sam]``)."""
import os
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ...compat.safe_loading import safe_load
from ..clip import WeightsUnavailableError
from .base import FoundationProxy

SAM_MEAN, SAM_STD = (123.675, 116.28, 103.53), (58.395, 57.12, 57.375)
SAM_FILES = dict(vit_b='sam_vit_b_01ec64.pth', vit_l='sam_vit_l_0b3195.pth', vit_h='sam_vit_h_4b8939.pth')


def import_segment_anything():
    try:
        import segment_anything
    except ImportError as e:
        raise ImportError('SAM needs the segment-anything package: pip install "clipseg[sam]" '
                          '(or pip install segment-anything)') from e
    return segment_anything


def build_sam(variant: str = 'vit_b', checkpoint: Optional[str] = None, pretrained: bool = True,
              tiny: Optional[dict] = None, key: str = 'model.sam') -> nn.Module:
    """A whole SAM (encoder, prompt encoder, mask decoder) of ``variant`` with the released weights
    from ``checkpoint``, random weights (``pretrained=False``), or ``tiny``: the encoder arguments of
    a small random SAM (tests); ``key`` names the config key in errors."""
    sam = import_segment_anything()
    if tiny is not None:
        from segment_anything.modeling import (ImageEncoderViT, MaskDecoder, PromptEncoder, Sam,
                                               TwoWayTransformer)
        encoder = ImageEncoderViT(**tiny)
        dim, grid = encoder.neck[0].out_channels, encoder.img_size // encoder.patch_embed.proj.stride[0]
        return Sam(image_encoder=encoder,
                   prompt_encoder=PromptEncoder(embed_dim=dim, image_embedding_size=(grid, grid),
                                                input_image_size=(encoder.img_size,) * 2, mask_in_chans=4),
                   mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer_dim=dim,
                                            transformer=TwoWayTransformer(depth=1, embedding_dim=dim,
                                                                          mlp_dim=2 * dim, num_heads=2),
                                            iou_head_depth=1, iou_head_hidden_dim=dim)).eval()
    if variant not in SAM_FILES:
        raise ValueError(f'SAM variant must be one of {sorted(SAM_FILES)}, got {variant!r}')
    if pretrained and checkpoint is None:
        raise WeightsUnavailableError(
            f'SAM {variant} weights come from a local file: download {SAM_FILES[variant]} '
            f'(github.com/facebookresearch/segment-anything, Model Checkpoints) and set '
            f'{key}.checkpoint=/path/to/it (or pretrained=False for random weights)')
    if checkpoint is not None and not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'SAM checkpoint not found: {checkpoint!r} ({key}.checkpoint)')
    model = sam.sam_model_registry[variant](checkpoint=None)
    if checkpoint is not None:
        missing, _ = model.load_state_dict(safe_load(checkpoint), strict=False)
        if missing:
            raise ValueError(f'{checkpoint!r} is not a SAM {variant} checkpoint: {len(missing)} '
                             f'weights missing, e.g. {missing[:3]}')
    return model.eval()


@MODELS.register_module()
class SAMProxy(FoundationProxy):
    """The neck output of SAM's ViT image encoder, (B, 256, 64, 64) for ViT-B/L/H: every crop is
    stretched (bilinear) to the encoder's square input (1024), as ProxyCLIP does, not padded.

    ``variant``: ``'vit_b'``, ``'vit_l'`` or ``'vit_h'``; ``checkpoint``: the released file
    (``sam_vit_b_01ec64.pth``...; SAM has no hub download here), or ``pretrained=False`` for
    random weights; ``encoder``: an ``ImageEncoderViT`` to use as is, or ``encoder_cfg``: the
    arguments of a randomly initialised one (tests, custom sizes).
    """

    def __init__(self, variant: str = 'vit_b', checkpoint: Optional[str] = None,
                 pretrained: bool = True, encoder: Optional[nn.Module] = None,
                 encoder_cfg: Optional[dict] = None):
        super().__init__(SAM_MEAN, SAM_STD)
        if encoder is None and encoder_cfg is not None:
            encoder = import_segment_anything().modeling.ImageEncoderViT(**encoder_cfg)
        if encoder is None:
            sam = import_segment_anything()
            if variant not in sam.sam_model_registry or variant == 'default':
                raise ValueError(f"SAM variant must be one of {sorted(SAM_FILES)}, got {variant!r}")
            if pretrained and checkpoint is None:
                raise WeightsUnavailableError(
                    f'SAM {variant} weights come from a local file: download {SAM_FILES[variant]} '
                    '(github.com/facebookresearch/segment-anything, Model Checkpoints) and set '
                    'model.proxy.checkpoint=/path/to/it (or pretrained=False for random weights)')
            if checkpoint is not None and not os.path.isfile(checkpoint):
                raise FileNotFoundError(f'SAM checkpoint not found: {checkpoint!r} (model.proxy.checkpoint)')
            encoder = sam.sam_model_registry[variant](checkpoint=None).image_encoder
            if checkpoint is not None:
                state = safe_load(checkpoint)
                state = {k[len('image_encoder.'):]: v for k, v in state.items()
                         if k.startswith('image_encoder.')}
                missing, unexpected = encoder.load_state_dict(state, strict=False)
                if missing:
                    raise ValueError(f'{checkpoint!r} is not a SAM {variant} checkpoint: '
                                     f'{len(missing)} image-encoder weights missing, e.g. {missing[:3]}')
        self.encoder = encoder.requires_grad_(False).eval()
        self.input_size = int(encoder.img_size)

    @torch.no_grad()
    def forward(self, x: Tensor, kind: str = 'x', prepared: bool = False) -> Tensor:
        self.check_kind(kind)
        s = self.input_size
        x = F.interpolate(x.float() if prepared else self.renormalise(x), size=(s, s),
                          mode='bilinear', align_corners=False)
        return self.encoder(x.to(self.encoder.patch_embed.proj.weight.dtype))
