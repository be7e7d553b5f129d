"""A trained proposal generator as a mask source (OVSeg's first stage)."""
import os

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from ..masks.base import MaskSource


@MODELS.register_module()
class ProposalMasks(MaskSource):
    """Proposals of a ``ProposalGenerator`` (built from ``config``, weights ``checkpoint``):
    those with objectness ≥ ``score_thr``, each kept where its probability > 0.5, painted so that
    a higher-scoring proposal lies over a lower one → an (H, W) id map."""

    def __init__(self, config: str, checkpoint: str, score_thr: float = 0.5):
        super().__init__()
        from mmengine.config import Config
        from mmengine.runner import load_checkpoint
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f'proposal generator checkpoint not found: {checkpoint!r} '
                                    '(model.mask_source.checkpoint; train one with tools/train.py)')
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        self.generator = MODELS.build(cfg.model).eval()
        load_checkpoint(self.generator, checkpoint, map_location='cpu', strict=True)
        self.score_thr = score_thr

    @torch.no_grad()
    def forward(self, image, meta, proxy=None) -> Tensor:
        pre = self.generator.data_preprocessor
        x = torch.as_tensor(image).permute(2, 0, 1).float()[None]      # RGB, as the mean/std
        x = (x - pre.mean.cpu()) / pre.std.cpu()
        shape = tuple(x.shape[-2:])
        x = F.pad(x, (0, -shape[1] % 32, 0, -shape[0] % 32))          # the backbone's stride
        meta = dict(img_shape=shape, ori_shape=shape, batch_input_shape=tuple(x.shape[-2:]))
        masks, scores = self.generator.proposals(x, [meta])
        keep = scores[0] >= self.score_thr
        order = torch.argsort(scores[0][keep])                        # low first: high painted last
        binary = masks[0][keep][order][:, :shape[0], :shape[1]] > 0.5
        out = torch.zeros(shape, dtype=torch.int64)
        for region, m in enumerate(binary, start=1):
            out[m] = region
        return out
