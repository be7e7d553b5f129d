"""SAM / SAM 2 automatic masks (the ``segment-anything`` and ``sam2`` packages; weights from a
local file)."""
import os
from typing import Optional

import numpy as np
import torch
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..clip import WeightsUnavailableError
from ..proxies.sam_proxy import SAM_FILES, import_segment_anything
from .base import MaskSource, paint_regions


def _painted(records) -> Tensor:
    if not records:
        return None
    return paint_regions(np.stack([r['segmentation'] for r in records]))


@MODELS.register_module()
class SAMMasks(MaskSource):
    """SAM's automatic mask generator on the image → regions painted by increasing area.

    ``variant`` and ``checkpoint`` as ``SAMProxy`` (SAM ViT-B/L/H, the released file), or
    ``model`` (a built ``Sam``); ``generator``: arguments of ``SamAutomaticMaskGenerator``
    (its defaults otherwise: 32 points per side, IoU 0.88, stability 0.95).
    """

    def __init__(self, variant: str = 'vit_h', checkpoint: Optional[str] = None,
                 model: Optional[nn.Module] = None, generator: Optional[dict] = None):
        super().__init__()
        sam = import_segment_anything()
        if model is None:
            if variant not in SAM_FILES:
                raise ValueError(f'SAM variant must be one of {sorted(SAM_FILES)}, got {variant!r}')
            if checkpoint is None:
                raise WeightsUnavailableError(
                    f'SAM {variant} weights come from a local file: download {SAM_FILES[variant]} '
                    '(github.com/facebookresearch/segment-anything) and set '
                    'model.mask_source.checkpoint=/path/to/it')
            if not os.path.isfile(checkpoint):
                raise FileNotFoundError(f'SAM checkpoint not found: {checkpoint!r} '
                                        '(model.mask_source.checkpoint)')
            model = sam.sam_model_registry[variant](checkpoint=None)
            from ...compat.safe_loading import safe_load
            model.load_state_dict(safe_load(checkpoint))
        self.sam = model.requires_grad_(False).eval()
        self.generator = sam.SamAutomaticMaskGenerator(self.sam, **(generator or {}))

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.no_grad()
    def forward(self, image, meta, proxy=None) -> Tensor:
        out = _painted(self.generator.generate(np.ascontiguousarray(image)))
        return torch.zeros(image.shape[:2], dtype=torch.int64) if out is None else out


@MODELS.register_module()
class SAM2Masks(MaskSource):
    """SAM 2's automatic mask generator (the ``sam2`` package) → regions painted by increasing
    area. Defaults: CorrCLIP's on-the-fly setting (corrclip_segmentor.py:263-272: Hiera-L,
    8 points per side, IoU 0.4, stability 0.4, single-mask output)."""

    def __init__(self, model_cfg: str = 'sam2_hiera_l.yaml', checkpoint: Optional[str] = None,
                 generator: Optional[dict] = None, model: Optional[nn.Module] = None):
        super().__init__()
        try:
            from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator
            from sam2.build_sam import build_sam2
        except ImportError as e:
            raise ImportError('SAM 2 masks need the sam2 package: pip install sam2') from e
        if model is None:
            if checkpoint is None:
                raise WeightsUnavailableError(
                    'SAM 2 weights come from a local file: download sam2_hiera_large.pt '
                    '(github.com/facebookresearch/sam2) and set model.mask_source.checkpoint')
            if not os.path.isfile(checkpoint):
                raise FileNotFoundError(f'SAM 2 checkpoint not found: {checkpoint!r} '
                                        '(model.mask_source.checkpoint)')
            model = build_sam2(model_cfg, checkpoint, device='cpu', apply_postprocessing=False)
        settings = dict(points_per_side=8, pred_iou_thresh=0.4, stability_score_thresh=0.4,
                        multimask_output=False)
        settings.update(generator or {})
        self.sam = model.requires_grad_(False).eval()
        self.generator = SAM2AutomaticMaskGenerator(self.sam, **settings)

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.no_grad()
    def forward(self, image, meta, proxy=None) -> Tensor:
        out = _painted(self.generator.generate(np.ascontiguousarray(image)))
        return torch.zeros(image.shape[:2], dtype=torch.int64) if out is None else out
