"""The contract of a proxy model, and how to build one from a config."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor, nn

from ..building import build_part


class FoundationProxy(nn.Module):
    """A frozen second image model (DINO, DINOv2, DINOv3, SAM's encoder) next to CLIP.

    ``forward(x, kind)`` takes the crops CLIP sees, (B, 3, H, W) normalised with CLIP's pixel
    mean/std (``set_input_stats``), re-normalises them with the proxy's own statistics and returns
    (B, C, h, w) patch features of ``kind`` (``prepared=True``: ``x`` is already normalised for the
    proxy, by a variant's own ``proxy_input``) (``kinds`` lists them: ``'x'`` the last block's output
    after the final norm; ``'q'``, ``'k'``, ``'v'``, ``'q+k'`` the last block's projections).
    ``patch_size`` is the pixels per output cell when the proxy runs at the crop's own size
    (None when it resizes every crop to a fixed input, as SAM does).
    """
    kinds: Sequence[str] = ('x',)
    patch_size: Optional[int] = None

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), False)
        self.register_buffer('in_mean', torch.zeros(1, 3, 1, 1), False)
        self.register_buffer('in_std', torch.ones(1, 3, 1, 1), False)

    def set_input_stats(self, mean: Tensor, std: Tensor) -> None:
        """The pixel mean/std (0-255 scale) the crops arrive normalised with (the segmentor's)."""
        self.in_mean.copy_(torch.as_tensor(mean, dtype=torch.float32).reshape(1, 3, 1, 1))
        self.in_std.copy_(torch.as_tensor(std, dtype=torch.float32).reshape(1, 3, 1, 1))

    def renormalise(self, x: Tensor) -> Tensor:
        """CLIP-normalised crops → normalised with this model's mean/std (both 0-255 scale)."""
        return ((x.float() * self.in_std + self.in_mean) - self.mean) / self.std

    def check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            raise ValueError(f'{type(self).__name__} gives features {list(self.kinds)}, not {kind!r}')

    def train(self, mode: bool = True):
        return super().train(False)    # always frozen

    def forward(self, x: Tensor, kind: str = 'x', prepared: bool = False) -> Tensor:
        raise NotImplementedError


def build_proxy(cfg: Union[dict, FoundationProxy, None]) -> Optional[FoundationProxy]:
    """``dict(type='TimmProxy', model_name='vit_base_patch8_224.dino')`` (or a module) → the proxy."""
    return build_part(cfg, FoundationProxy, 'proxy')
