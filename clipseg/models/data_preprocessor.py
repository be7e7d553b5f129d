"""mmseg's SegDataPreProcessor, also accepting test batches of mixed image sizes."""
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import MODELS


@MODELS.register_module()
class MixedSizeSegDataPreProcessor(SegDataPreProcessor):
    """Without a fixed ``size``/``size_divisor``, pads images of different sizes (and their
    ground truth, with ``seg_pad_val``) at the bottom/right to the largest one and stacks them;
    each sample's ``img_shape`` still names its valid area, which the segmentors crop back to,
    so a batch gives the same result as its images one by one."""

    def forward(self, data: dict, training: bool = False) -> dict:
        fixed = self.size is not None or self.size_divisor is not None
        if (training and fixed) or (not training and self.test_cfg):
            return super().forward(data, training)
        data = self.cast_data(data)
        inputs = data['inputs']
        # the attribute lost its underscore between mmseg releases (1.2.2 vs the onedl fork)
        swap = getattr(self, '_channel_conversion', getattr(self, 'channel_conversion', False))
        if swap and inputs[0].size(0) == 3:
            inputs = [x[[2, 1, 0], ...] for x in inputs]
        inputs = [x.float() for x in inputs]
        if self._enable_normalize:
            inputs = [(x - self.mean) / self.std for x in inputs]
        H = max(x.shape[1] for x in inputs)
        W = max(x.shape[2] for x in inputs)
        inputs = torch.stack([F.pad(x, (0, W - x.shape[2], 0, H - x.shape[1]), value=self.pad_val)
                              for x in inputs])
        samples = data.get('data_samples')
        for sample in (samples or []) if training else []:
            if 'gt_sem_seg' in sample:
                gt = sample.gt_sem_seg.data
                sample.gt_sem_seg = PixelData(data=F.pad(gt, (0, W - gt.shape[-1], 0, H - gt.shape[-2]),
                                                         value=self.seg_pad_val))
        return dict(inputs=inputs, data_samples=samples)
