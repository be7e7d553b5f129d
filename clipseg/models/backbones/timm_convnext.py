"""Dense features from open_clip's ConvNeXt towers: the trunk's feature map through the head the
tower applies after pooling, at every location."""
from typing import Optional, Tuple, Union

from torch import Tensor, nn

from mmseg.registry import MODELS
from ..attention import LastBlockAttention, build_attention
from ..attention.vanilla import VanillaAttention
from ..clip import create_clip
from .clip_tower import PAD_MODES, CLIPTowerAdapter, pad_to_patches


def is_timm_convnext(visual: nn.Module) -> bool:
    from timm.models.convnext import ConvNeXt
    return isinstance(getattr(visual, 'trunk', None), ConvNeXt)


@MODELS.register_module()
class TimmConvNeXt(CLIPTowerAdapter):
    """open_clip ConvNeXt tower → ``(dense (B, D, H/32, W/32),)``: the last stage's map, then per
    location the trunk head's LayerNorm and the tower's projection (what follows average pooling
    in ``encode_image``). A ConvNeXt has no attention, so ``attention`` must be ``'vanilla'``;
    the training-free variants are refused. ``with_global=True`` adds the tower's own pooled
    embedding: ``((global (B, D), dense),)``. Inputs are padded to a multiple of 32 (``pad``).
    """

    def __init__(self,
                 model_name: str = 'convnext_base',
                 pretrained: Optional[str] = None,
                 attention: Union[str, dict, LastBlockAttention] = 'vanilla',
                 model_cfg: Optional[dict] = None,
                 visual: Optional[nn.Module] = None,
                 frozen: bool = True,
                 with_global: bool = False,
                 pad: str = 'corner',
                 init_cfg=None):
        if visual is None:
            visual = create_clip(model_name, pretrained, model_cfg)[0].visual
        if not is_timm_convnext(visual):
            raise TypeError(f'{model_name!r} has no timm ConvNeXt image tower')
        if not isinstance(build_attention(attention), VanillaAttention):
            raise ValueError(f'a ConvNeXt tower has no attention for {attention!r} '
                             "to replace; use attention='vanilla' (its head on every location)")
        if pad not in PAD_MODES:
            raise ValueError(f'pad must be one of {PAD_MODES}, got {pad!r}')
        head = visual.trunk.head
        if not all(hasattr(head, n) for n in ('norm', 'pre_logits', 'fc')):
            raise TypeError(f'{model_name!r}: ConvNeXt head {type(head).__name__} (norm before '
                            'pooling) is not supported')
        super().__init__(visual, frozen, init_cfg)
        self.with_global, self.pad = with_global, pad
        self.patch_size = (32, 32)

    def pad_to_patches(self, x: Tensor) -> Tensor:
        return pad_to_patches(x, self.patch_size, self.pad)

    def project_map(self, feats: Tensor) -> Tensor:
        """(B, C, h, w) last-stage map → (B, D, h, w): head norm, pre-logits, projection."""
        head = self.visual.trunk.head
        y = head.norm(feats).permute(0, 2, 3, 1)             # LayerNorm2d over channels
        y = self.visual.head(head.fc(head.pre_logits(y)))
        return y.permute(0, 3, 1, 2)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        feats = self.visual.trunk.forward_features(self.pad_to_patches(x))
        dense = self.project_map(feats)
        if self.with_global:
            return ((self.visual.head(self.visual.trunk.forward_head(feats)), dense),)
        return (dense,)
