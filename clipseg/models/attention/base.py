"""The contract of a last-block attention variant, and how to pick one from a config.

A new training-free variant plugs in as one class: subclass ``LastBlockAttention``, set
``short_name``, register it with ``@MODELS.register_module()`` and import it in this package;
configs then say ``attention='<short_name>'``, and ``short_names()`` (the benchmark, the tests, the
error for an unknown name) lists it with no other edit.

A variant that changes more than the last block's attention (intermediate layers, token repair,
several passes through the last block: SC-CLIP, ResCLIP, RF-CLIP) sets ``tower = True`` and
implements ``run_tower``; it runs on open_clip's native ViT (``CLIPViT``), and the other
adapters refuse it by name (``refuse_tower``).

A variant guided by a second image model (ProxyCLIP, CorrCLIP) also sets ``guide`` to the proxy
features it needs (``'x'``, ``'q+k'``, see ``proxies/base.py``) and implements ``run_guided``; the
adapter then needs a ``proxy``, and the dense map lies on the proxy's grid."""
from typing import Dict, Optional, Tuple, Union

import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS


class LastBlockAttention(nn.Module):
    """Replaces the attention of the last block of CLIP's image tower.

    ``forward(q, k, v, grid)`` takes per-head queries, keys and values of shape (B, heads, N, hd),
    where the first N - h*w tokens are prefix tokens (CLS for ViT, the mean token for ResNet
    attnpool, none for SigLIP) and the rest lie on a ``grid = (h, w)`` patch grid; it returns
    (B, heads, N, hd).

    Class attributes say how the rest of the block is run:
    ``keep_residual``: add the block input back; ``keep_ffn``: run the block's MLP;
    ``value_only``: the output is the value path alone (no token mixing, no positional term).
    """
    keep_residual = True
    keep_ffn = True
    value_only = False
    tower = False                      # True: ``run_tower`` replaces the adapter's block loop
    guide: Optional[str] = None        # proxy feature kind for ``run_guided`` (tower variants)
    short_name: Optional[str] = None   # the name configs use (``attention='sclip'``)

    def forward(self, q: Tensor, k: Tensor, v: Tensor, grid: Tuple[int, int]) -> Tensor:
        raise NotImplementedError

    def run_tower(self, visual: nn.Module, x: Tensor, grid: Tuple[int, int]) -> Tensor:
        """(``tower = True`` only) the blocks of the open_clip ViT ``visual`` on the embedded
        tokens (B, 1 + h*w, C), after ``ln_pre`` → the tokens (B, 1 + h*w, C) that ``ln_post`` and
        the projection turn into dense features (the first token fills the CLS slot)."""
        raise NotImplementedError

    def run_guided(self, visual: nn.Module, x: Tensor, grid: Tuple[int, int], guide: Tensor
                   ) -> Tuple[Tensor, Tuple[int, int]]:
        """(``guide`` set only) as ``run_tower`` with the proxy's (B, C', h', w') ``guide``
        features of the same crops → tokens (B, 1 + h'*w', C) on the proxy grid, and (h', w')."""
        raise NotImplementedError


def value_path(block: nn.Module, x: Tensor) -> Tensor:
    """An open_clip block's values of ``ln_1(x)``, heads concatenated: (B, N, C) → (B, N, C)."""
    attn = block.attn
    C = x.shape[-1]
    bias = attn.in_proj_bias[2 * C:] if attn.in_proj_bias is not None else None
    return F.linear(block.ln_1(x), attn.in_proj_weight[2 * C:], bias)


def values_on_grid(v: Tensor, grid: Tuple[int, int], size: Tuple[int, int]) -> Tensor:
    """(B, 1 + h*w, C) values → the patch values (B, h'*w', C) resized bilinearly to ``size``
    (ProxyCLIP, CorrCLIP: CLIP's values brought to the proxy grid)."""
    B, _, C = v.shape
    v = v[:, 1:].transpose(1, 2).reshape(B, C, *grid)
    v = F.interpolate(v, size=size, mode='bilinear', align_corners=False)
    return v.flatten(2).transpose(1, 2)


def refuse_tower(attention: LastBlockAttention, adapter: str) -> None:
    """A ``tower`` variant needs open_clip's native ViT blocks: refuse it on ``adapter`` by name."""
    if attention.tower:
        raise TypeError(f'{type(attention).__name__} ({attention.short_name!r}) changes CLIP\'s '
                        f'intermediate layers and runs on open_clip ViT towers (CLIPViT) only, not '
                        f'on {adapter}; choose a last-block variant such as \'sclip\' or \'naclip\'')


def qkv_heads(block: nn.Module, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """An open_clip block's queries, keys and values of ``ln_1(x)``: (B, N, C) → 3 × (B, heads, N, d)."""
    attn = block.attn
    q, k, v = F.linear(block.ln_1(x), attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    B, N, C = q.shape
    return tuple(t.reshape(B, N, attn.num_heads, C // attn.num_heads).transpose(1, 2)
                 for t in (q, k, v))


def cosine_affinity(tokens: Tensor) -> Tensor:
    """(B, N, C) tokens → (B, N, N) cosine similarities (SC-CLIP's and RF-CLIP's patch graphs)."""
    t = F.normalize(tokens, dim=-1)
    return t @ t.transpose(1, 2)


def project_heads(block: nn.Module, out: Tensor) -> Tensor:
    """(B, heads, N, d) attention output → (B, N, C) through the block's output projection."""
    B, H, N, d = out.shape
    return block.ls_1(block.attn.out_proj(out.transpose(1, 2).reshape(B, N, H * d)))


def short_names() -> Dict[str, str]:
    """``{'sclip': 'SCLIPAttention', ...}``: every registered ``LastBlockAttention`` that declares a
    ``short_name``, read from the registry (a new variant's name appears by registering it)."""
    out = {}
    for registry in (MODELS, *MODELS.children.values()):
        for name, cls in registry.module_dict.items():
            if isinstance(cls, type) and issubclass(cls, LastBlockAttention) and cls.short_name:
                out.setdefault(cls.short_name, name)
    return dict(sorted(out.items()))


def build_attention(cfg: Union[str, dict, LastBlockAttention]) -> LastBlockAttention:
    """Build a variant from ``'maskclip'``, ``dict(type='NACLIPAttention', std=5.0)`` or a module."""
    if isinstance(cfg, LastBlockAttention):
        return cfg
    if isinstance(cfg, str):
        cfg = dict(type=cfg)
    cfg = dict(cfg)
    name = cfg['type']
    known = short_names()
    cfg['type'] = known.get(str(name).lower(), name)
    if cfg['type'] not in known.values() and MODELS.get(cfg['type']) is None:
        raise ValueError(f'unknown attention variant {name!r}; choose one of {list(known)}')
    if '.' not in cfg['type'] and MODELS.get(cfg['type']) is not None:
        cfg['type'] = f"mmseg.{cfg['type']}"   # builds under any default scope (mmdet's too)
    module = MODELS.build(cfg)
    if not isinstance(module, LastBlockAttention):
        raise TypeError(f'{cfg["type"]} built a {type(module).__name__}, not a LastBlockAttention')
    return module
