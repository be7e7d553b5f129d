"""DINO teacher for CLIP-DINOiser: last-block value/key features of a timm ViT and their
patch-to-patch correlations, plus the CLS attention that FOUND's background seed needs."""
import os
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..clip import WeightsUnavailableError
from ..proxies.timm_proxy import load_timm_weights, timm_weights_available, use_dino_positions


class DINOOutput(NamedTuple):
    feats: Tensor      # (B, C, h, w) L2-normalised value (or key) features of the last block
    keys: Tensor       # (B, C, h, w) L2-normalised key features of the last block
    cls_attn: Tensor   # (B, heads, h*w) attention of the CLS query to every patch
    raw_keys: Tensor   # (B, C, h, w) the same keys, unnormalised (FOUND's decoder input)


@MODELS.register_module()
class DINOTeacher(nn.Module):
    """A frozen timm ViT (``vit_base_patch16_224.dino`` by default; any timm ViT by name).

    ``forward(x)`` takes images normalised with the ViT's own mean/std, (B, 3, H, W) with H, W
    multiples of the patch size, and returns a ``DINOOutput``. ``correlations(out)`` gives the
    (B, h*w, h, w) cosine correlations of ``out.feats``. Positional embeddings are resized as DINO's
    ``interpolate_pos_encoding`` does (bicubic, scale factor (h + 0.1)/√N), not with timm's
    antialiased resampling.
    """

    def __init__(self, model_name: str = 'vit_base_patch16_224.dino', pretrained: bool = True,
                 checkpoint: Optional[str] = None, feats: str = 'v', model_kwargs: Optional[dict] = None):
        super().__init__()
        import timm
        if feats not in ('k', 'v'):
            raise ValueError(f"DINO features must be 'k' or 'v', got {feats!r}")
        if pretrained and checkpoint is None and not timm_weights_available(model_name):
            raise WeightsUnavailableError(
                f'timm weights for {model_name!r} are not cached and the hub cannot be reached; '
                'download them elsewhere and pass checkpoint=/path/to/model.safetensors')
        kwargs = dict(dynamic_img_size=True, num_classes=0, **(model_kwargs or {}))
        self.vit = timm.create_model(model_name, pretrained=pretrained and checkpoint is None, **kwargs)
        if checkpoint is not None:
            if not os.path.isfile(checkpoint):
                raise FileNotFoundError(f'DINO checkpoint not found: {checkpoint!r}')
            load_timm_weights(self.vit, checkpoint, strict=False)
        self.vit.requires_grad_(False).eval()
        self.feats = feats
        self.patch_size = self.vit.patch_embed.patch_size[0]
        cfg = self.vit.pretrained_cfg
        self.register_buffer('mean', torch.tensor(cfg.get('mean', (0.485, 0.456, 0.406))).view(1, 3, 1, 1) * 255, False)
        self.register_buffer('std', torch.tensor(cfg.get('std', (0.229, 0.224, 0.225))).view(1, 3, 1, 1) * 255, False)
        self._qkv = None
        self.vit.blocks[-1].attn.qkv.register_forward_hook(self._keep_qkv)
        use_dino_positions(self.vit)

    def _keep_qkv(self, module, inputs, output):
        self._qkv = output

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.no_grad()
    def forward(self, x: Tensor) -> DINOOutput:
        B, _, H, W = x.shape
        h, w = H // self.patch_size, W // self.patch_size
        self.vit.forward_features(x)
        attn = self.vit.blocks[-1].attn
        heads, prefix = attn.num_heads, self.vit.num_prefix_tokens
        q, k, v = self._qkv.reshape(B, -1, 3, heads, self._qkv.shape[-1] // 3 // heads).permute(2, 0, 3, 1, 4)
        cls_attn = F.softmax((q[:, :, :1] * attn.scale) @ k.transpose(-1, -2), dim=-1)[:, :, 0, prefix:]

        def as_map(t):
            t = t[:, :, prefix:].permute(0, 1, 3, 2).reshape(B, -1, h, w)
            return F.normalize(t.float(), dim=1)
        raw_keys = k[:, :, prefix:].permute(0, 1, 3, 2).reshape(B, -1, h, w).float()
        return DINOOutput(as_map(v if self.feats == 'v' else k), as_map(k), cls_attn.float(), raw_keys)

    def normalise(self, images_0_255: Tensor) -> Tensor:
        return (images_0_255 - self.mean) / self.std

    @staticmethod
    def correlations(feats: Tensor) -> Tensor:
        """(B, C, h, w) unit features → (B, h*w, h, w) cosine correlations (patch i, then map)."""
        B, C, h, w = feats.shape
        f = feats.flatten(2)
        return (f.transpose(1, 2) @ f).reshape(B, h * w, h, w)
