"""torchvision's ColorJitter as an mmseg pipeline step (CLIP-DINOiser's training augmentation:
``T.ColorJitter(0.5)``, brightness only). mmseg's PhotoMetricDistortion shifts brightness
additively and also jitters contrast, saturation and hue, so it is not the same recipe."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """``results['img']`` (H, W, 3) uint8 → jittered by ``torchvision.transforms.ColorJitter``."""

    def __init__(self, brightness=0.0, contrast=0.0, saturation=0.0, hue=0.0):
        from torchvision.transforms import ColorJitter as TVColorJitter
        self.jitter = TVColorJitter(brightness, contrast, saturation, hue)

    def transform(self, results: dict) -> dict:
        img = results['img']
        rgb = torch.from_numpy(np.ascontiguousarray(img[..., ::-1])).permute(2, 0, 1)
        out = self.jitter(rgb).permute(1, 2, 0).numpy()[..., ::-1]
        results['img'] = np.ascontiguousarray(out)
        return results

    def __repr__(self):
        return f'{type(self).__name__}({self.jitter})'
