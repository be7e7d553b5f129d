"""The evaluation view of PiCIE, STEGO and ReCo: resize the short side to ``size``, centre crop
``size`` × ``size``, image and labels alike, and score the crop (NoelShin/reco ``utils/utils.py:65-88``:
torchvision ``Resize(320, Image.NEAREST)`` + ``CenterCrop(320)`` on both)."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ShortSideCenterCrop(BaseTransform):
    """``img`` (H, W, 3) and ``gt_seg_map`` (H, W) → (size, size) each, through torchvision's
    ``resize`` and ``center_crop`` on PIL images, so sizes round as theirs do (mmcv's ``Resize``
    rounds the long side, torchvision truncates it: 427 vs 426 for a 640×480 image). The crop
    becomes ``ori_shape``: predictions are scored on it, as the authors score theirs."""

    def __init__(self, size: int = 320, interpolation: str = 'nearest'):
        self.size, self.interpolation = int(size), interpolation

    def _view(self, array: np.ndarray, interpolation: str) -> np.ndarray:
        from PIL import Image
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF
        img = TF.resize(Image.fromarray(array), self.size, interpolation=InterpolationMode(interpolation))
        return np.array(TF.center_crop(img, self.size))

    def transform(self, results: dict) -> dict:
        results['img'] = self._view(results['img'], self.interpolation)
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = self._view(results['gt_seg_map'], 'nearest')
        results['img_shape'] = results['ori_shape'] = (self.size, self.size)
        return results

    def __repr__(self):
        return f'{type(self).__name__}(size={self.size}, interpolation={self.interpolation!r})'
