"""The contract of a last-block attention variant, and how to pick one from a config."""
from typing import Tuple, Union

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

    def forward(self, q: Tensor, k: Tensor, v: Tensor, grid: Tuple[int, int]) -> Tensor:
        raise NotImplementedError


SHORT_NAMES = {
    'vanilla': 'VanillaAttention',
    'maskclip': 'MaskCLIPAttention',
    'sclip': 'SCLIPAttention',
    'clearclip': 'ClearCLIPAttention',
    'naclip': 'NACLIPAttention',
}


def build_attention(cfg: Union[str, dict, LastBlockAttention]) -> LastBlockAttention:
    """Build a variant from ``'maskclip'``, ``dict(type='NACLIPAttention', std=5.0)`` or a module."""
    if isinstance(cfg, LastBlockAttention):
        return cfg
    if isinstance(cfg, str):
        cfg = dict(type=cfg)
    cfg = dict(cfg)
    name = cfg['type']
    cfg['type'] = SHORT_NAMES.get(str(name).lower(), name)
    if cfg['type'] not in SHORT_NAMES.values() and MODELS.get(cfg['type']) is None:
        raise ValueError(f'unknown attention variant {name!r}; choose one of {sorted(SHORT_NAMES)}')
    if '.' not in cfg['type'] and MODELS.get(cfg['type']) is not None:
        cfg['type'] = f"mmseg.{cfg['type']}"   # builds under any default scope (mmdet's too)
    module = MODELS.build(cfg)
    if not isinstance(module, LastBlockAttention):
        raise TypeError(f'{cfg["type"]} built a {type(module).__name__}, not a LastBlockAttention')
    return module
