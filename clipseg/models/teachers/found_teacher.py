"""FOUND's background teacher (Siméoni et al., CVPR 2023): a trained 1×1 decoder on DINO ViT-S/8
keys, or FOUND's training-free background discovery when no decoder is at hand."""
import os
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from .dino_teacher import DINOOutput, DINOTeacher


def found_background(cls_attn: Tensor, raw_keys: Tensor, tau: float = 0.3) -> Tensor:
    """FOUND Sec. 3.1 (valeoai/FOUND bkg_seg.py): heads are weighted by the sparsity of their CLS
    attention (β_h = log(Σ_h' Q_h' / Q_h), Q_h the share of patches above the mean attention), the
    least attended patch (β-weighted sum over heads) is the one background seed, and patches whose
    β-weighted, concatenated keys have cosine > ``tau`` with the seed's are background.

    cls_attn (B, heads, h*w), raw_keys (B, C, h, w) unnormalised → (B, 1, h, w) background in {0, 1}."""
    B, C, h, w = raw_keys.shape
    heads, eps = cls_attn.shape[1], 1e-10
    threshold = cls_attn.reshape(B, -1).mean(dim=1)
    Q = (cls_attn > threshold[:, None, None]).float().mean(dim=2)                  # (B, heads)
    beta = torch.log((Q + eps).sum(dim=1, keepdim=True) / (Q + eps))              # (B, heads)
    keys = raw_keys.reshape(B, heads, C // heads, h * w) * beta[:, :, None, None]
    keys = F.normalize(keys.reshape(B, C, h * w), dim=1)                          # (B, C, N)
    seed = (cls_attn * beta[:, :, None]).sum(dim=1).argmin(dim=1)                 # (B,)
    sim = torch.einsum('bcn,bc->bn', keys, keys[torch.arange(B), :, seed])
    return (sim > tau).float().reshape(B, 1, h, w)


@MODELS.register_module()
class FOUNDBackground(nn.Module):
    """``forward(out: DINOOutput) → (B, 1, h, w)`` foreground in [0, 1] on the DINO patch grid.

    With ``head`` (FOUND's trained decoder file, a 1×1 conv ``in_channels`` → 1 over the raw keys
    of DINO ViT-S/8: ``decoder_weights.pt``), its sigmoid; without, 1 − FOUND's training-free
    background (``found_background``, threshold ``tau``). ``dino`` builds the ViT these features
    come from (FOUND: ``vit_small_patch8_224.dino``); without it the correlation teacher's outputs
    are used.
    """

    def __init__(self, tau: float = 0.3, head: Optional[str] = None, in_channels: int = 384,
                 dino: Optional[dict] = None):
        super().__init__()
        self.tau = tau
        self.dino = DINOTeacher(**dict(dict(feats='k'), **dino)) if dino is not None else None
        self.head = None
        if head is not None:
            if not os.path.isfile(os.path.expanduser(head)):
                raise FileNotFoundError(
                    f'FOUND decoder weights not found: {head!r}. Download decoder_weights.pt from '
                    'valeoai/FOUND (data/weights/) on a machine with network access, train one with '
                    'configs/found/found_vit-s8_dino_train224_unlabelled.py, or set '
                    'background_teacher.head=None for FOUND\'s training-free discovery')
            from ...compat.safe_loading import safe_load
            state = safe_load(os.path.expanduser(head))
            state = state.get('state_dict', state)            # a FOUNDDecoder Runner checkpoint
            state = state.get('decoder', state)               # the authors' {'decoder': ...}
            state = {k.split('.')[-1]: v for k, v in state.items() if k.split('.')[-1] != 'steps'}
            if set(state) != {'weight', 'bias'} or tuple(state['weight'].shape) != (1, in_channels, 1, 1):
                raise ValueError(f'{head!r} is not a FOUND decoder for {in_channels}-d keys: '
                                 f'{ {k: tuple(v.shape) for k, v in state.items()} }')
            self.head = nn.Conv2d(in_channels, 1, 1)
            self.head.load_state_dict(state)
            self.head.requires_grad_(False)

    @torch.no_grad()
    def forward(self, out: DINOOutput) -> Tensor:
        if self.head is not None:
            return torch.sigmoid(self.head(out.raw_keys))
        return 1.0 - found_background(out.cls_attn, out.raw_keys, self.tau)
