"""What the image-tower adapters share: holding an open_clip tower, frozen or trainable, and
fitting inputs to its patch grid."""
from typing import Tuple

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

PAD_MODES = ('corner', 'corner_stretch', 'even', 'even_stretch', 'drop')


def pad_to_patches(x: Tensor, patch_size: Tuple[int, int], pad: str) -> Tensor:
    """(B, 3, H, W) → a multiple of ``patch_size``: ``'corner'`` and ``'corner_stretch'`` pad
    bottom/right (MaskCLIP), ``'even'`` and ``'even_stretch'`` both sides evenly (ClearCLIP;
    ProxyCLIP to its 56-pixel unit), ``'drop'`` crops the
    leftover pixels (SCLIP). The modes differ again when the grid returns to pixels
    (``segmentors/windows.grid_to_window``)."""
    ph, pw = patch_size
    H, W = x.shape[-2:]
    if pad == 'drop':
        return x[..., :H - H % ph, :W - W % pw]
    dh, dw = (-H) % ph, (-W) % pw
    if pad in ('even', 'even_stretch'):
        return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))
    return F.pad(x, (0, dw, 0, dh))


class CLIPTowerAdapter(BaseModule):
    """Keeps ``visual`` (an open_clip image tower). A frozen tower gets no gradients and stays in
    eval mode when the model trains; its weights come from open_clip, never from ``init_weights``."""

    def __init__(self, visual: nn.Module, frozen: bool, init_cfg=None):
        super().__init__(init_cfg)
        self.visual = visual
        self.frozen = frozen
        if frozen:
            self.visual.requires_grad_(False)

    def init_weights(self):
        """CLIP weights come from open_clip; added layers keep PyTorch's initialisation."""

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.visual.eval()
        return self
