"""Dense patch features from an open_clip ViT image tower, with a configurable last-block attention."""
import math
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from timm.layers import drop_path

from mmseg.registry import MODELS
from ..attention import LastBlockAttention, build_attention
from ..clip import create_clip
from ..proxies import FoundationProxy, build_proxy
from .clip_tower import PAD_MODES, CLIPTowerAdapter, pad_to_patches


from ..clip.positions import POS_RESIZE, check_grid, resize_pos_embed


def split_heads(x: Tensor, heads: int) -> Tensor:
    """(B, N, C) → (B, heads, N, C/heads)."""
    B, N, C = x.shape
    return x.reshape(B, N, heads, C // heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """(B, heads, N, d) → (B, N, heads*d)."""
    B, H, N, d = x.shape
    return x.transpose(1, 2).reshape(B, N, H * d)


@MODELS.register_module()
class CLIPViT(CLIPTowerAdapter):
    """open_clip ViT image tower returning dense features in CLIP's joint embedding space.

    ``forward(x)`` with ``x`` (B, 3, H, W), any H, W, returns a tuple: one (B, C, h, w) map per
    entry of ``out_indices`` (block outputs, or the block's ``ln_2`` input normalised when
    ``tap='ln_2'``), then the dense embedding (B, D, h, w), D = CLIP's embedding width. The last
    block runs the chosen ``attention`` variant.

    Sizes that are not a multiple of the patch size p (``pad``): ``'corner'`` pads bottom/right
    (h = ⌈H/p⌉; ``'corner_stretch'`` too, its grid later stretched over the unpadded window as
    MaskCLIP's code does), ``'even'`` pads both sides evenly (ClearCLIP; h = ⌈H/p⌉), ``'drop'``
    drops the leftover pixels (SCLIP, NACLIP; h = ⌊H/p⌋, logits are stretched to the window).
    Positional embeddings are resized bicubically, ``pos_resize='exact'`` or ``'dino'``, or
    bilinearly (``'bilinear'``).

    DenseCLIP training options: ``pos_grid`` resizes the positional embedding once to that grid
    (bilinear, e.g. 40 for 640 crops) where it is trained; ``drop_path_rate`` adds stochastic depth
    (0 → rate over the blocks); ``cls_embed_twice`` reproduces the authors' ViT, which adds the class
    embedding to the CLS token twice (off unless asked for).

    ``proxy`` (``proxies/``): a second image model for variants that set ``guide`` (ProxyCLIP,
    CorrCLIP); the proxy sees the same padded crops, and the dense map lies on its grid. With
    ``pad='even_stretch'`` crops are padded evenly to a multiple of ``pad_multiple`` (ProxyCLIP's
    56), CLIP drops what its patches do not cover, and the grid is stretched over the padded crop.

    ``ln_eps`` sets the epsilon of every LayerNorm of the tower (MaskCLIP's converted ViT uses 1e-6
    with ``nn.GELU``: ``ln_eps=1e-6`` here with ``quick_gelu=False`` in ``clip``).

    DenseCLIP options: ``multiscale=True`` turns the ``out_indices`` maps (4 of them) into strides
    4, 8, 16, 32 (deconvolutions, identity, max-pool, as in DenseCLIP's ViT); ``with_global=True``
    makes the last element ``(global (B, D), dense (B, D, h, w))`` with the CLS embedding.
    """

    def __init__(self,
                 model_name: str = 'ViT-B-16',
                 pretrained: Optional[str] = None,
                 attention: Union[str, dict, LastBlockAttention] = 'maskclip',
                 out_indices: Sequence[int] = (),
                 tap: str = 'block',
                 model_cfg: Optional[dict] = None,
                 quick_gelu: Optional[bool] = None,
                 visual: Optional[nn.Module] = None,
                 frozen: bool = True,
                 multiscale: bool = False,
                 with_global: bool = False,
                 pos_resize: str = 'exact',
                 pad: str = 'corner',
                 pos_grid: Optional[int] = None,
                 drop_path_rate: float = 0.0,
                 cls_embed_twice: bool = False,
                 ln_eps: Optional[float] = None,
                 proxy: Union[dict, FoundationProxy, None] = None,
                 pad_multiple: Optional[int] = None,
                 init_cfg=None):
        if visual is None:
            visual = create_clip(model_name, pretrained, model_cfg, quick_gelu,
                                 pos_grid=pos_grid)[0].visual
        check_grid(visual.positional_embedding, pos_grid)
        if not hasattr(visual, 'transformer') or not hasattr(visual, 'conv1'):
            raise TypeError(f'{model_name!r} has no native open_clip ViT image tower; use CLIPResNet '
                            'for ModifiedResNet, TimmViT / TimmConvNeXt for timm towers')
        if not getattr(visual.transformer, 'batch_first', True):
            raise TypeError('open_clip transformer must run batch-first (open_clip >= 2.24)')
        if pos_resize not in POS_RESIZE:
            raise ValueError(f'pos_resize must be one of {POS_RESIZE}, got {pos_resize!r}')
        if pad not in PAD_MODES:
            raise ValueError(f'pad must be one of {PAD_MODES}, got {pad!r}')
        if tap not in ('block', 'ln_2'):
            raise ValueError(f"tap must be 'block' or 'ln_2', got {tap!r}")
        if not isinstance(visual.transformer.resblocks[-1].attn, nn.MultiheadAttention):
            raise TypeError(f'{model_name!r}: the last block uses a custom attention module; only '
                            'open_clip towers built on nn.MultiheadAttention are supported')
        if getattr(visual, 'attn_pool_contrastive', None) is not None:
            raise TypeError(f'{model_name!r}: parallel/cascade attention pooling (open_clip WIP, no '
                            'released weights) is not supported; the CoCa pooler is')
        super().__init__(visual, frozen, init_cfg)
        if ln_eps is not None:
            if ln_eps <= 0:
                raise ValueError(f'ln_eps must be positive, got {ln_eps}')
            for module in visual.modules():
                if isinstance(module, nn.LayerNorm):
                    module.eps = float(ln_eps)
        self.attention = build_attention(attention)
        global_ok = getattr(self.attention, 'global_token', False)
        if self.attention.tower and (out_indices or multiscale or (with_global and not global_ok)
                                     or getattr(visual, 'attn_pool', None) is not None):
            raise ValueError(f'{type(self.attention).__name__} rewrites the whole tower: it takes '
                             'no out_indices or multiscale, nor a CoCa pooler'
                             + ('' if global_ok else ', and has no global token (with_global)'))
        self.proxy = build_proxy(proxy)
        guide = self.attention.guide
        if guide and self.proxy is None:
            raise ValueError(f'attention {self.attention.short_name!r} is guided by a vision '
                             'foundation model: set model.proxy, e.g. dict(type=\'TimmProxy\', '
                             'model_name=\'vit_base_patch8_224.dino\') or dict(type=\'SAMProxy\', '
                             'checkpoint=\'sam_vit_b_01ec64.pth\')')
        if self.proxy is not None and not guide:
            raise ValueError(f'a proxy model was given but attention {type(self.attention).__name__} '
                             'does not use one; choose a guided variant (\'proxyclip\', \'corrclip\')')
        if guide:
            self.proxy.check_kind(guide)
        depth = len(visual.transformer.resblocks)
        self.out_indices = tuple(i % depth for i in out_indices)
        self.tap = tap
        self.pos_resize, self.pad = pos_resize, pad
        self.drop_rates = [float(r) for r in torch.linspace(0, drop_path_rate, depth)]
        self.cls_embed_twice = cls_embed_twice
        self.patch_size = tuple(visual.patch_size) if isinstance(visual.patch_size, (tuple, list)) \
            else (visual.patch_size, visual.patch_size)
        if pad_multiple is not None and pad != 'even_stretch':
            raise ValueError("pad_multiple goes with pad='even_stretch'")
        unit = pad_multiple or self.patch_size[0]
        if guide and self.proxy.patch_size and unit % self.proxy.patch_size:
            raise ValueError(f'pad_multiple {unit} is not a multiple of the proxy patch '
                             f'({self.proxy.patch_size} px): set backbone_cfg.pad_multiple')
        self.pad_unit = (unit, unit) if pad == 'even_stretch' else self.patch_size
        self.width = visual.conv1.out_channels
        self.embed_dim = visual.proj.shape[1] if visual.proj is not None else self.width
        self.with_global = with_global
        self.multiscale = None
        if multiscale:
            if len(self.out_indices) != 4:
                raise ValueError('multiscale needs 4 out_indices, e.g. (3, 5, 7, 11)')
            C = self.width
            self.multiscale = nn.ModuleList([   # DenseCLIP's fpn1-4: each led by a GroupNorm
                nn.Sequential(nn.GroupNorm(1, C), nn.ConvTranspose2d(C, C, 2, 2), nn.BatchNorm2d(C),
                              nn.GELU(), nn.ConvTranspose2d(C, C, 2, 2)),
                nn.Sequential(nn.GroupNorm(1, C), nn.ConvTranspose2d(C, C, 2, 2)),
                nn.GroupNorm(1, C),
                nn.Sequential(nn.GroupNorm(1, C), nn.MaxPool2d(2, 2))])

    def pad_to_patches(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) → a multiple of the patch size, following ``pad``."""
        return pad_to_patches(x, self.pad_unit, self.pad)

    def embed(self, x: Tensor) -> Tuple[Tensor, Tuple[int, int]]:
        """(B, 3, H, W) → tokens (B, 1 + h*w, C) after ln_pre, and the grid (h, w)."""
        visual = self.visual
        x = visual.conv1(self.pad_to_patches(x).to(visual.conv1.weight.dtype))
        grid = tuple(x.shape[-2:])
        x = x.flatten(2).transpose(1, 2)
        cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1)
        pos = self.positions(grid).to(x.dtype)
        if self.cls_embed_twice:  # DenseCLIP's ViT: the class embedding again on the CLS position
            pos = torch.cat([pos[:1] + visual.class_embedding.to(x.dtype), pos[1:]])
        x = x + pos
        return visual.ln_pre(x), grid

    def positions(self, grid: Tuple[int, int]) -> Tensor:
        """The (1 + h*w, C) positional embedding resized to ``grid``; at inference kept per grid
        (a slide run has one or two window grids) until the weights change."""
        pe = self.visual.positional_embedding
        src = (int(math.isqrt(pe.shape[0] - 1)),) * 2
        if ((pe.requires_grad and torch.is_grad_enabled()) or torch.jit.is_tracing()
                or torch.compiler.is_compiling() or torch.compiler.is_exporting()
                or not all(type(g) is int for g in grid)):
            return resize_pos_embed(pe, src, grid, self.pos_resize)
        key = (tuple(grid), self.pos_resize, id(pe), pe._version)
        cache = self.__dict__.setdefault('_positions', {})
        hit = cache.get(key)
        if hit is None or hit[0] is not pe:     # the entry holds its tensor: ids are not reused
            if len(cache) >= 8:
                cache.clear()
            hit = cache[key] = (pe, resize_pos_embed(pe.detach(), src, grid, self.pos_resize))
        return hit[1]

    def last_block(self, block: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
        """Run ``block`` with its attention replaced by ``self.attention``: (B, N, C) → (B, N, C)."""
        attn = block.attn
        heads = attn.num_heads
        y = block.ln_1(x)
        q, k, v = F.linear(y, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        out = self.attention(split_heads(q, heads), split_heads(k, heads), split_heads(v, heads), grid)
        out = block.ls_1(attn.out_proj(merge_heads(out)))
        x = x + out if self.attention.keep_residual else out
        if self.attention.keep_ffn:
            x = x + block.ls_2(block.mlp(block.ln_2(x)))
        return x

    def _block_with_tap(self, block: nn.Module, x: Tensor, drop: float = 0.0) -> Tuple[Tensor, Tensor]:
        """One block → (output, ln_2 input normalised); ``drop``: stochastic depth when training."""
        dp = (lambda y: drop_path(y, drop, self.training)) if drop else (lambda y: y)  # noqa: E731
        x = x + dp(block.ls_1(block.attention(block.ln_1(x))))
        tapped = block.ln_2(x)
        return x + dp(block.ls_2(block.mlp(tapped))), tapped

    def to_map(self, tokens: Tensor, grid: Tuple[int, int]) -> Tensor:
        """(B, 1 + h*w, C) → (B, C, h, w), dropping the CLS token."""
        return tokens[:, 1:].transpose(1, 2).reshape(tokens.shape[0], -1, *grid)

    def padded_regions(self, regions: Tensor) -> Tensor:
        """(B, H, W) region ids of the crops → padded as the crops are, the padding a region of
        its own (above every id, as CorrCLIP's 10000)."""
        padded = self.pad_to_patches(regions[:, None].float() - (regions.max() + 1))
        return (padded[:, 0] + (regions.max() + 1)).long()

    def guide_features(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) crops → the proxy's (B, C', h', w') features of the padded crops, or of
        what the variant's own ``proxy_input`` makes of the crops (CASS)."""
        prepare = getattr(self.attention, 'proxy_input', None)
        if prepare is not None:
            return self.proxy(prepare(x), self.attention.guide, prepared=True)
        return self.proxy(self.pad_to_patches(x), self.attention.guide)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        inputs = x
        x, grid = self.embed(x)
        blocks = self.visual.transformer.resblocks
        outs = []
        if self.attention.guide:   # ProxyCLIP, CorrCLIP: the proxy's features guide the blocks
            extra = {}
            if getattr(self.attention, 'needs_regions', False):   # CorrCLIP: the crops' regions
                extra['regions'] = self.padded_regions(self.attention.take_regions())
            x, grid = self.attention.run_guided(self.visual, x, grid, self.guide_features(inputs),
                                                **extra)
            blocks = ()
        elif self.attention.tower:   # SC-CLIP, ResCLIP, RF-CLIP: the variant runs the blocks
            x = self.attention.run_tower(self.visual, x, grid)
            blocks = ()
        for i, block in enumerate(blocks):
            if i == len(blocks) - 1:
                x = self.last_block(block, x, grid)
                tapped = x
            elif (self.tap == 'ln_2' and i in self.out_indices) or (self.drop_rates[i] and self.training):
                x, tapped = self._block_with_tap(block, x, self.drop_rates[i])
                tapped = tapped if self.tap == 'ln_2' else x
            else:
                x = tapped = block(x)
            if i in self.out_indices:
                outs.append(self.to_map(tapped, grid))
        if self.multiscale is not None:
            outs = [op(o) for op, o in zip(self.multiscale, outs)]
        visual = self.visual
        if visual.attn_pool is not None:  # CoCa: the pooler's value path on every token
            dense = visual.ln_post(attention_values(visual.attn_pool.attn, visual.attn_pool.ln_k(x)))
        elif getattr(self.attention, 'normed_output', False):   # CorrCLIP: ln_post per branch
            dense = x
        else:
            dense = visual.ln_post(x)
        if visual.proj is not None:
            dense = dense @ visual.proj
        if self.with_global:
            pooled = visual._pool(x)[0]
            outs.append((pooled @ visual.proj if visual.proj is not None else pooled,
                         self.to_map(dense, grid)))
        else:
            outs.append(self.to_map(dense, grid))
        return tuple(outs)


def attention_values(attn: nn.MultiheadAttention, x: Tensor) -> Tensor:
    """(B, N, C) → (B, N, D): each token through ``attn``'s value and output projections alone
    (MaskCLIP's value path of an attention pooler)."""
    E = attn.embed_dim
    weight = attn.in_proj_weight[2 * E:] if attn._qkv_same_embed_dim else attn.v_proj_weight
    bias = attn.in_proj_bias[2 * E:] if attn.in_proj_bias is not None else None
    return attn.out_proj(F.linear(x, weight, bias))
