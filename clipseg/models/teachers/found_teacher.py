"""FOUND-style background teacher (Siméoni et al., CVPR 2023, Sec. 3.1): the patch the CLS token
attends to least is a background seed; patches whose DINO keys resemble a seed are background."""
import os
from typing import Optional

import torch
from torch import Tensor, nn

from mmseg.registry import MODELS
from .dino_teacher import DINOOutput


@MODELS.register_module()
class FOUNDBackground(nn.Module):
    """``forward(out: DINOOutput) → (B, 1, h, w)`` foreground probability in [0, 1].

    Training-free discovery: per head, the least attended patch is a seed; a patch is background
    when its key similarity to the seeds, averaged over heads, exceeds ``tau``. With ``head``
    (a trained FOUND decoder, a 1×1 conv over DINO features) its sigmoid output is used instead.
    """

    def __init__(self, tau: float = 0.3, head: Optional[str] = None, in_channels: int = 768):
        super().__init__()
        self.tau = tau
        self.head = None
        if head is not None:
            if not os.path.isfile(head):
                raise FileNotFoundError(f'FOUND head weights not found: {head!r}')
            state = torch.load(head, map_location='cpu', weights_only=True)
            self.head = nn.Conv2d(in_channels, 1, 1)
            self.head.load_state_dict({k.split('.')[-1]: v for k, v in state.items()})
            self.head.requires_grad_(False)

    @torch.no_grad()
    def forward(self, out: DINOOutput) -> Tensor:
        if self.head is not None:
            return torch.sigmoid(self.head(out.feats))
        B, C, h, w = out.keys.shape
        keys = out.keys.flatten(2)                                   # (B, C, N)
        seeds = out.cls_attn.argmin(dim=-1)                          # (B, heads)
        seed_keys = torch.gather(keys, 2, seeds.unsqueeze(1).expand(-1, C, -1))  # (B, C, heads)
        sim = torch.einsum('bcn,bcs->bsn', keys, seed_keys).mean(dim=1)          # (B, N)
        return (sim <= self.tau).float().reshape(B, 1, h, w)
