"""Dense features from open_clip's timm-backed ViT towers: SigLIP / SigLIP 2 and PE (MAP head),
EVA / EVA02 (rotary positions), timm ViTs with token or average pooling."""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..attention import LastBlockAttention, build_attention
from ..attention.base import refuse_tower
from ..clip import create_clip
from .clip_tower import PAD_MODES, CLIPTowerAdapter, pad_to_patches
from .clip_vit import merge_heads, split_heads


def timm_vit_kind(visual: nn.Module) -> Optional[str]:
    """'vit' or 'eva' when ``visual`` is an open_clip TimmModel around a timm ViT or EVA."""
    trunk = getattr(visual, 'trunk', None)
    if trunk is None:
        return None
    from timm.models.eva import Eva
    from timm.models.vision_transformer import VisionTransformer
    if isinstance(trunk, Eva):
        return 'eva'
    if isinstance(trunk, VisionTransformer):
        return 'vit'
    return None


@MODELS.register_module()
class TimmViT(CLIPTowerAdapter):
    """open_clip timm ViT tower → ``(dense (B, D, h, w),)`` in CLIP's joint space, h, w = ⌈H/p⌉,
    ⌈W/p⌉ (``pad`` as in ``CLIPViT``), for any input size: positions are resampled by timm's own
    dynamic-size path (bicubic; rotary embeddings for EVA rebuilt for the grid).

    The last block runs ``attention`` (all variants: timm's ``Attention`` and EVA's, rotary
    positions applied to q and k as the block does). The tower's pooling head then runs on every
    patch token: a MAP head (SigLIP, PE) by its value path alone (kv's value, proj, its MLP), as
    MaskCLIP does for attnpool; token or average pooling by the norm and projection that follow it.
    ``with_global=True`` makes the element ``(global (B, D), dense)`` with the tower's own pooling.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16-SigLIP',
                 pretrained: Optional[str] = None,
                 attention: Union[str, dict, LastBlockAttention] = 'maskclip',
                 model_cfg: Optional[dict] = None,
                 visual: Optional[nn.Module] = None,
                 frozen: bool = True,
                 with_global: bool = False,
                 pad: str = 'corner',
                 init_cfg=None):
        if visual is None:
            visual = create_clip(model_name, pretrained, model_cfg)[0].visual
        kind = timm_vit_kind(visual)
        if kind is None:
            raise TypeError(f'{model_name!r} has no timm ViT/EVA image tower')
        if pad not in PAD_MODES:
            raise ValueError(f'pad must be one of {PAD_MODES}, got {pad!r}')
        trunk = visual.trunk
        block = trunk.blocks[-1]
        from timm.models.eva import EvaBlock
        from timm.models.vision_transformer import Block
        if type(block) not in (Block, EvaBlock):
            raise TypeError(f'{model_name!r}: last block is a timm {type(block).__name__}; the '
                            'training-free variants run on timm Block and EvaBlock only')
        if getattr(trunk, 'rope_mixed', False):
            raise TypeError(f'{model_name!r}: per-block (mixed) rotary embeddings are not supported')
        pool = getattr(trunk, 'attn_pool', None)
        if pool is not None and getattr(pool, 'pos_embed', None) is not None:
            raise TypeError(f'{model_name!r}: a MAP head with its own position embedding has a '
                            'fixed token count; no dense path')
        if not getattr(trunk, 'dynamic_img_size', False):
            raise TypeError(f'{model_name!r}: the timm trunk was built at a fixed input size; build '
                            'the tower with clipseg.models.clip.create_clip, which builds timm ViT/EVA '
                            "trunks in timm's dynamic-size mode (dynamic_img_size=True)")
        super().__init__(visual, frozen, init_cfg)
        self.kind = kind
        self.attention = build_attention(attention)
        refuse_tower(self.attention, 'timm towers (TimmViT)')
        self.with_global, self.pad = with_global, pad
        self.patch_size = tuple(trunk.patch_embed.patch_size)
        self.num_prefix = trunk.num_prefix_tokens
        self.embed_dim = self._output_dim()

    def _output_dim(self) -> int:
        with torch.no_grad():
            probe = torch.zeros(1, 1, self.visual.trunk.num_features)
            return self.project_tokens(probe).shape[-1]

    def pad_to_patches(self, x: Tensor) -> Tensor:
        return pad_to_patches(x, self.patch_size, self.pad)

    def embed(self, x: Tensor) -> Tuple[Tensor, Optional[Tensor], Tuple[int, int]]:
        """(B, 3, H, W) → tokens (B, P + h*w, C) before the blocks, rotary embedding or None, grid."""
        trunk = self.visual.trunk
        x = trunk.patch_embed(self.pad_to_patches(x))         # (B, h, w, C)
        grid = tuple(x.shape[1:3])
        if self.kind == 'eva':
            x, rope = trunk._pos_embed(x)
        else:
            x, rope = trunk.patch_drop(trunk._pos_embed(x)), None
        return trunk.norm_pre(x), rope, grid

    def qkv(self, attn: nn.Module, y: Tensor, rope: Optional[Tensor]) -> Tuple[Tensor, Tensor, Tensor]:
        """Per-head (B, heads, N, d) queries, keys, values of the last block, as its attention
        computes them (q/k norms; EVA: q/k/v biases, rotary positions on the patch tokens)."""
        B, N, _ = y.shape
        heads = attn.num_heads
        if getattr(attn, 'qkv', None) is None:                 # EVA with separate projections
            q, k, v = (split_heads(p(y), heads) for p in (attn.q_proj, attn.k_proj, attn.v_proj))
        else:
            bias = None
            if getattr(attn, 'q_bias', None) is not None:       # EVA: k has no bias
                bias = torch.cat((attn.q_bias, attn.k_bias, attn.v_bias))
                if getattr(attn, 'qkv_bias_separate', False) and attn.qkv.bias is not None:
                    bias = bias + attn.qkv.bias
            else:
                bias = attn.qkv.bias
            q, k, v = (split_heads(t, heads) for t in F.linear(y, attn.qkv.weight, bias).chunk(3, -1))
        q, k = attn.q_norm(q), attn.k_norm(k)
        if rope is not None:
            from timm.layers import apply_rot_embed_cat
            P, half = attn.num_prefix_tokens, getattr(attn, 'rotate_half', False)
            q, k = (torch.cat([t[:, :, :P], apply_rot_embed_cat(t[:, :, P:], rope, half=half)], 2)
                    .type_as(v) for t in (q, k))
        return q, k, v

    def last_block(self, block: nn.Module, x: Tensor, rope: Optional[Tensor],
                   grid: Tuple[int, int]) -> Tensor:
        """Run ``block`` with its attention replaced by ``self.attention``: (B, N, C) → (B, N, C)."""
        attn = block.attn
        y = block.norm1(x)
        out = merge_heads(self.attention(*self.qkv(attn, y, rope), grid))
        out = attn.norm(out)
        if getattr(attn, 'gate', None) is not None:
            out = out * attn.gate(y).sigmoid()
        out = self._scale(block, 1, attn.proj(out))
        x = x + out if self.attention.keep_residual else out
        if self.attention.keep_ffn:
            x = x + self._scale(block, 2, block.mlp(block.norm2(x)))
        return x

    @staticmethod
    def _scale(block: nn.Module, i: int, y: Tensor) -> Tensor:
        """Layer scale: timm Block's ``ls1``/``ls2`` modules, EvaBlock's ``gamma_1``/``gamma_2``."""
        ls = getattr(block, f'ls{i}', None)
        if ls is not None:
            return ls(y)
        gamma = getattr(block, f'gamma_{i}', None)
        return y if gamma is None else gamma * y

    def project_tokens(self, tokens: Tensor) -> Tensor:
        """(B, N, C) normalised patch tokens → (B, N, D): the pooling head on each token alone."""
        trunk = self.visual.trunk
        pool = getattr(trunk, 'attn_pool', None)
        y = tokens
        if pool is not None:                                   # MAP: value path, proj, MLP
            C = y.shape[-1]
            y = pool.proj(F.linear(y, pool.kv.weight[C:], None if pool.kv.bias is None
                                   else pool.kv.bias[C:]))
            if pool.mlp is not None:
                y = y + pool.mlp(pool.norm(y))
        y = trunk.head(trunk.fc_norm(y))
        return self.visual.head(y)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        x, rope, grid = self.embed(x)
        blocks = self.visual.trunk.blocks
        for block in blocks[:-1]:
            x = block(x, rope=rope) if self.kind == 'eva' else block(x)
        x = self.last_block(blocks[-1], x, rope, grid)
        tokens = self.visual.trunk.norm(x)
        dense = self.project_tokens(tokens[:, self.num_prefix:])
        dense = dense.transpose(1, 2).reshape(x.shape[0], -1, *grid)
        if self.with_global:
            return ((self.visual.head(self.visual.trunk.forward_head(tokens)), dense),)
        return (dense,)
