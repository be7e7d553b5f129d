"""Dense features from an open_clip ModifiedResNet (RN50, RN101, ...) image tower."""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..attention import LastBlockAttention, build_attention
from ..attention.base import refuse_tower
from ..clip import create_clip
from .clip_tower import CLIPTowerAdapter
from ..clip.positions import check_grid, resize_pos_embed
from .clip_vit import merge_heads, split_heads


@MODELS.register_module()
class CLIPResNet(CLIPTowerAdapter):
    """open_clip ModifiedResNet returning stage maps and dense features in CLIP's joint space.

    ``forward(x)`` with ``x`` (B, 3, H, W) (padded to a multiple of 32) returns a tuple: the outputs
    of the stages in ``out_indices`` (0..3; strides 4, 8, 16, 32), then the dense embedding
    (B, D, H/32, W/32) made by running attnpool on every spatial token with the chosen ``attention``
    variant. With ``'maskclip'`` that is v_proj then c_proj as 1×1 convs (MaskCLIP, Sec. 3.2).
    With ``with_global=True`` (DenseCLIP) the last element is ``(global (B, D), dense (B, D, h, w))``,
    the global token being attnpool's pooled output. DenseCLIP's ``pos_grid`` resizes attnpool's
    positional embedding once, bilinearly, to that grid (16 for 512 crops) where it is trained,
    and ``pos_resize='bilinear'`` resizes it bilinearly to each input (default: bicubic);
    ``'crop'`` takes the grid's top-left cells instead (DenseCLIP's detectors).
    """
    stride = 32

    def __init__(self,
                 model_name: str = 'RN50',
                 pretrained: Optional[str] = None,
                 attention: Union[str, dict, LastBlockAttention] = 'maskclip',
                 out_indices: Sequence[int] = (),
                 model_cfg: Optional[dict] = None,
                 quick_gelu: Optional[bool] = None,
                 visual: Optional[nn.Module] = None,
                 frozen: bool = True,
                 with_global: bool = False,
                 pos_grid: Optional[int] = None,
                 pos_resize: str = 'exact',
                 init_cfg=None):
        if visual is None:
            visual = create_clip(model_name, pretrained, model_cfg, quick_gelu,
                                 pos_grid=pos_grid)[0].visual
        if not hasattr(visual, 'attnpool'):
            raise TypeError(f'{model_name!r} has no ModifiedResNet image tower; use CLIPViT for ViTs')
        check_grid(visual.attnpool.positional_embedding, pos_grid)
        super().__init__(visual, frozen, init_cfg)
        self.attention = build_attention(attention)
        refuse_tower(self.attention, 'ResNet towers (CLIPResNet)')
        self.out_indices = tuple(i % 4 for i in out_indices)
        self.patch_size = (self.stride, self.stride)
        self.embed_dim = visual.attnpool.c_proj.out_features
        self.with_global = with_global
        if pos_resize not in ('exact', 'bilinear', 'crop'):
            raise ValueError("CLIPResNet pos_resize must be 'exact', 'bilinear' or 'crop', "
                             f'got {pos_resize!r}')
        self.pos_resize = pos_resize
        if with_global and self.attention.value_only:
            raise ValueError('with_global needs an attention that mixes tokens (e.g. vanilla)')

    def attnpool_positions(self, h: int, w: int) -> Tensor:
        """(1 + h*w, C) positional embedding for an h × w map: resized (bicubic or bilinear), or
        with ``'crop'`` the top-left h × w of the trained grid (DenseCLIP detection,
        ``detection/denseclip/models.py:77``)."""
        pos = self.visual.attnpool.positional_embedding
        side = int(math.isqrt(pos.shape[0] - 1))
        if self.pos_resize != 'crop':
            return resize_pos_embed(pos, (side, side), (h, w), self.pos_resize)
        if h > side or w > side:
            raise ValueError(f'input of {h}x{w} stride-32 cells exceeds the {side}x{side} position '
                             'grid to crop from: raise pos_grid')
        grid = pos[1:].reshape(side, side, -1)[:h, :w].reshape(h * w, -1)
        return torch.cat([pos[:1], grid])

    def dense_attnpool(self, x: Tensor, keep_global: bool = False):
        """attnpool applied to every token of the (B, C, h, w) stage-4 map → (B, D, h, w);
        with ``keep_global`` also the pooled (B, D) global token."""
        pool = self.visual.attnpool
        B, _, h, w = x.shape
        tokens = x.flatten(2).transpose(1, 2)
        if self.attention.value_only:
            out = pool.c_proj(pool.v_proj(tokens))
        else:
            tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1)
            tokens = tokens + self.attnpool_positions(h, w).to(tokens.dtype)
            heads = pool.num_heads
            q, k, v = (split_heads(proj(tokens), heads) for proj in (pool.q_proj, pool.k_proj, pool.v_proj))
            out = pool.c_proj(merge_heads(self.attention(q, k, v, (h, w))))
            if keep_global:
                return out[:, 0], out[:, 1:].transpose(1, 2).reshape(B, -1, h, w)
            out = out[:, 1:]
        return out.transpose(1, 2).reshape(B, -1, h, w)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        H, W = x.shape[-2:]
        x = F.pad(x, (0, (-W) % self.stride, 0, (-H) % self.stride))
        x = self.visual.stem(x.to(self.visual.conv1.weight.dtype))
        outs = []
        for i, layer in enumerate((self.visual.layer1, self.visual.layer2,
                                   self.visual.layer3, self.visual.layer4)):
            x = layer(x)
            if i in self.out_indices:
                outs.append(x)
        outs.append(self.dense_attnpool(x, keep_global=self.with_global))
        return tuple(outs)
