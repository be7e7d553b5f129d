"""OVSeg's first stage: a backbone and ``OpenVocabMaskFormerHead`` on the normalised, padded image
(ov-seg ``ovseg_model.py:150-160, 193-209``)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS


@MODELS.register_module()
class OVSegProposals(BaseModule):
    """RGB image (3, H, W), 0-255 → (Q, H, W) mask logits and (Q, D) query embeddings.

    The image is normalised with ``mean``/``std`` and zero-padded at the bottom/right to a
    multiple of ``size_divisor``; the masks are upsampled (bilinear) to the padded size and
    cropped back to (H, W), as detectron2's ``sem_seg_postprocess`` does for OVSeg. A BaseModule:
    the Runner's ``init_weights`` reaches the backbone (``init_cfg``: e.g. Swin-B ImageNet weights)
    and the head.
    """

    def __init__(self, backbone: dict, head: dict,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 size_divisor: int = 32, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head)
        self.register_buffer('mean', torch.tensor(mean).view(3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std).view(3, 1, 1), persistent=False)
        self.size_divisor = size_divisor

    def normalise(self, image: Tensor) -> Tensor:
        """(3, H, W) RGB 0-255 → (1, 3, H', W') normalised and padded."""
        x = (image.float() - self.mean) / self.std
        h, w = x.shape[-2:]
        x = F.pad(x, (0, -w % self.size_divisor, 0, -h % self.size_divisor))
        return x[None]

    def forward(self, image: Tensor) -> Tuple[Tensor, Tensor]:
        x = self.normalise(image)
        queries, masks = self.head.predict_queries(self.backbone(x), tuple(x.shape[-2:]))
        masks = F.interpolate(masks, size=x.shape[-2:], mode='bilinear', align_corners=False)
        return masks[0, :, :image.shape[-2], :image.shape[-1]], queries[0]
