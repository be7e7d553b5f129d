"""A timm ViT as the proxy: DINO (ViT-B/8, B/16), DINOv2 (with and without registers), DINOv3."""
import math
import os
from typing import Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from ..clip import WeightsUnavailableError, _offline
from ..clip.positions import resize_pos_embed
from .base import FoundationProxy

POS_MODES = ('dino', 'timm')


def timm_weights_available(model_name: str) -> bool:
    """Whether timm can get ``model_name``'s pretrained weights: cached, or the hub reachable."""
    from huggingface_hub import try_to_load_from_cache
    import timm
    cfg = timm.models.get_pretrained_cfg(model_name)
    hub = getattr(cfg, 'hf_hub_id', None) if cfg is not None else None
    if not hub:
        return not _offline()
    for name in ('model.safetensors', 'pytorch_model.bin', 'open_clip_pytorch_model.bin'):
        if isinstance(try_to_load_from_cache(hub, name), str):
            return True
    return not _offline()


def load_timm_weights(vit, checkpoint: str, strict: bool = True) -> None:
    """A local checkpoint into the timm ViT ``vit``, read by the project's ``safe_load`` (a file
    that is no checkpoint, or needs full pickle, is refused by name); the weights may sit under
    ``state_dict`` or ``model`` (DINO's, timm's training files)."""
    from ...compat.safe_loading import safe_load
    state = safe_load(checkpoint)
    for key in ('state_dict', 'model'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f'{checkpoint!r} holds a {type(state).__name__}, not a state dict')
    missing, unexpected = vit.load_state_dict(state, strict=False)
    if strict and (missing or unexpected):
        raise ValueError(f'{checkpoint!r} does not fit the ViT: {len(missing)} weights missing '
                         f'(e.g. {missing[:3]}), {len(unexpected)} unexpected (e.g. {unexpected[:3]})')


def use_dino_positions(vit) -> None:
    """Make the timm ViT ``vit`` resize its positional table as DINO's hub code (bicubic, scale
    factor (h + 0.1)/√N) instead of timm's antialiased resampling (one CLS token, no registers)."""
    def pos_embed(x: Tensor) -> Tensor:               # (B, h, w, C) patches → (B, 1 + h*w, C)
        B, h, w, C = x.shape
        pos = vit.pos_embed[0]
        side = int(math.isqrt(pos.shape[0] - 1))
        pos = resize_pos_embed(pos, (side, side), (h, w), 'dino').to(x.dtype)
        x = torch.cat([vit.cls_token.expand(B, -1, -1).to(x.dtype), x.reshape(B, h * w, C)], dim=1)
        return vit.pos_drop(x + pos)
    vit._pos_embed = pos_embed


@MODELS.register_module()
class TimmProxy(FoundationProxy):
    """Patch features of a frozen timm ViT at the crop's own size (cells of ``patch_size`` pixels;
    leftover pixels past a multiple of it are dropped).

    ``model_name``: any timm ViT (``'vit_base_patch8_224.dino'``, ``'vit_base_patch14_dinov2.lvd142m'``,
    ``'vit_base_patch14_reg4_dinov2.lvd142m'``, ``'vit_base_patch16_dinov3.lvd1689m'``); weights
    from timm's hub cache, or ``checkpoint`` (a local file), or random (``pretrained=False``).
    Mean/std come from the model's ``pretrained_cfg``. ``pos_resize``: ``'dino'`` resizes the
    positional embedding as DINO's hub code (bicubic, scale (h + 0.1)/√N), ``'timm'`` as timm
    (bicubic, antialiased: DINOv2 with registers' hub code); default: ``'dino'`` for models with
    one prefix token, else ``'timm'``. Kinds ``q``/``k``/``v``/``q+k`` are the last block's
    projections (before any rotary embedding), heads concatenated.
    """
    kinds = ('x', 'q', 'k', 'v', 'q+k')

    def __init__(self, model_name: str = 'vit_base_patch8_224.dino', pretrained: bool = True,
                 checkpoint: Optional[str] = None, pos_resize: Optional[str] = None,
                 model_kwargs: Optional[dict] = None):
        import timm
        if pretrained and checkpoint is None and not timm_weights_available(model_name):
            raise WeightsUnavailableError(
                f'timm weights for the proxy {model_name!r} are not cached and the hub cannot be '
                'reached; download them elsewhere and set model.proxy.checkpoint=/path/to/'
                'model.safetensors (or pretrained=False for random weights)')
        if checkpoint is not None and not os.path.isfile(checkpoint):
            raise FileNotFoundError(f'proxy checkpoint not found: {checkpoint!r} (model.proxy.checkpoint)')
        vit = timm.create_model(model_name, pretrained=pretrained and checkpoint is None,
                                dynamic_img_size=True, num_classes=0, **(model_kwargs or {}))
        if checkpoint is not None:
            load_timm_weights(vit, checkpoint)
        cfg = vit.pretrained_cfg
        super().__init__([255 * m for m in cfg.get('mean', (0.485, 0.456, 0.406))],
                         [255 * s for s in cfg.get('std', (0.229, 0.224, 0.225))])
        self.vit = vit.requires_grad_(False).eval()
        self.model_name = model_name
        self.patch_size = int(vit.patch_embed.patch_size[0])
        self.prefix = int(vit.num_prefix_tokens)
        if pos_resize is None:
            pos_resize = 'dino' if self._dino_positions_apply() else 'timm'
        if pos_resize not in POS_MODES:
            raise ValueError(f'pos_resize must be one of {POS_MODES}, got {pos_resize!r}')
        if pos_resize == 'dino':
            if not self._dino_positions_apply():
                raise ValueError(f"pos_resize='dino' needs a ViT with one prefix token and a "
                                 f"learned position table; {model_name!r} has neither: use 'timm'")
            use_dino_positions(self.vit)
        self.pos_resize = pos_resize
        self._qkv = None
        self.vit.blocks[-1].attn.qkv.register_forward_hook(self._keep_qkv)

    def _dino_positions_apply(self) -> bool:
        vit = self.vit
        return (getattr(vit, 'pos_embed', None) is not None and self.prefix == 1
                and not getattr(vit, 'no_embed_class', False) and hasattr(vit, 'pos_drop'))

    def _keep_qkv(self, module, inputs, output):
        self._qkv = output

    @torch.no_grad()
    def forward(self, x: Tensor, kind: str = 'x', prepared: bool = False) -> Tensor:
        self.check_kind(kind)
        p = self.patch_size
        H, W = x.shape[-2:]
        h, w = H // p, W // p
        if h == 0 or w == 0:
            raise ValueError(f'a {H}x{W} crop is smaller than the proxy patch ({p} px)')
        x = x[..., :h * p, :w * p]
        x = (x.float() if prepared else self.renormalise(x)).to(self.vit.patch_embed.proj.weight.dtype)
        tokens = self.vit.forward_features(x)
        if kind != 'x':
            q, k, v = self._qkv.unflatten(-1, (3, -1)).unbind(2)
            tokens = {'q': q, 'k': k, 'v': v, 'q+k': q + k}[kind]
        self._qkv = None
        tokens = tokens[:, self.prefix:]
        return tokens.transpose(1, 2).reshape(tokens.shape[0], -1, h, w)
