"""Mask prompt tuning (OVSeg, Liang et al., CVPR 2023, Sec. 3.3) on an open_clip ViT.

Learnable tokens, one per patch position and depth, replace the tokens of the patches a crop's
mask does not touch: on the patch embeddings before the class token and positional embedding,
then after each of the first ``depth - 1`` blocks; the class token is never replaced. A patch is
"touched" if any of its pixels is in the mask (average pool, then ceil). CLIP stays frozen; only
the prompts train (ov-seg ``third_party/CLIP/clip/model.py:320-352``).
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class MaskPromptedCLIP(nn.Module):
    """(M, 3, S, S) normalised masked crops + (M, S, S) their masks → (M, D) unit image embeddings.

    ``depth=0``: CLIP's own forward on the crops (OVSeg without prompts). ``S`` must be the
    tower's input size (the prompts are per patch position)."""

    def __init__(self, visual: nn.Module, depth: int = 3, init_std: float = 0.02):
        super().__init__()
        for part in ('conv1', 'class_embedding', 'positional_embedding', 'ln_pre', 'transformer'):
            if not hasattr(visual, part):
                raise ValueError('mask prompts need an open_clip ViT tower (conv1, class and '
                                 f'positional embeddings); {type(visual).__name__} has no {part}')
        self.visual = visual
        self.depth = int(depth)
        blocks = len(visual.transformer.resblocks)
        if not 0 <= self.depth <= blocks:
            raise ValueError(f'mask prompt depth must be 0..{blocks} (the tower has {blocks} blocks), '
                             f'got {depth}')
        self.patch = int(visual.conv1.kernel_size[0])
        self.size = int(visual.image_size[0] if isinstance(visual.image_size, (tuple, list))
                        else visual.image_size)
        tokens, width = visual.positional_embedding.shape[0] - 1, visual.conv1.out_channels
        self.mask_embedding = (nn.Parameter(torch.randn(self.depth, tokens, width) * init_std)
                               if self.depth else None)

    def touched(self, masks: Tensor) -> Tensor:
        """(M, S, S) → (M, h*w, 1): 1 where a patch holds any mask pixel."""
        pooled = F.avg_pool2d(masks[:, None].float(), self.patch, self.patch)
        return torch.ceil(pooled).flatten(1)[..., None]

    def forward(self, crops: Tensor, masks: Tensor) -> Tensor:
        if crops.shape[-1] != self.size or crops.shape[-2] != self.size:
            raise ValueError(f'crops must be {self.size}x{self.size} (the tower\'s input), got '
                             f'{tuple(crops.shape[-2:])}')
        visual = self.visual
        if self.depth == 0:
            return F.normalize(visual(crops), dim=-1)
        keep = self.touched(masks).to(crops.dtype)
        prompts = self.mask_embedding.to(crops.dtype)
        x = visual.conv1(crops.to(visual.conv1.weight.dtype)).flatten(2).transpose(1, 2)
        x = x * keep + prompts[0] * (1 - keep)
        cls = visual.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = visual.ln_pre(torch.cat([cls, x], dim=1) + visual.positional_embedding.to(x.dtype))
        batch_first = getattr(visual.transformer, 'batch_first', True)
        for d, block in enumerate(visual.transformer.resblocks, start=1):
            x = block(x if batch_first else x.transpose(0, 1))
            x = x if batch_first else x.transpose(0, 1)
            if d < self.depth:
                x = torch.cat([x[:, :1], x[:, 1:] * keep + prompts[d] * (1 - keep)], dim=1)
        pooled, _ = visual._pool(x)
        if visual.proj is not None:
            pooled = pooled @ visual.proj
        return F.normalize(pooled, dim=-1)
