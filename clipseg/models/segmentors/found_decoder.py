"""Train FOUND's background decoder ourselves (Siméoni et al., CVPR 2023, Sec. 3.2), for users
without the authors' ``decoder_weights.pt``: a 1×1 conv on the raw keys of a frozen DINO ViT-S/8,
self-trained on unlabelled images."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor, nn

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..teachers import DINOTeacher
from ..teachers.found_teacher import found_background

IMAGENET_MEAN = [123.675, 116.28, 103.53]
IMAGENET_STD = [58.395, 57.12, 57.375]


@MODELS.register_module()
class FOUNDDecoder(BaseSegmentor):
    """``decoder``: Conv2d(C, 1, 1) over the (B, C, h, w) raw keys of ``dino``'s last block.

    Loss, as valeoai/FOUND main_found_train.py: for the first ``stop_bkg_loss`` steps, BCE against
    the objects of FOUND's training-free background discovery (threshold ``tau``); afterwards
    ``w_self`` × BCE against the decoder's own binarised predictions (self-training). Not done
    here: FOUND's bilateral-solver refinement of both targets (its ``bilateral_solver.py``) and its
    extra ``w_bs_loss`` term. ``predict`` gives a 2-class map (0 background, 1 foreground) and the
    foreground probability. Checkpoints hold only the decoder: ``FOUNDBackground(head=...)`` reads
    them as it reads the authors' file.
    """

    def __init__(self, dino: dict = dict(model_name='vit_small_patch8_224.dino', pretrained=True),
                 tau: float = 0.3, stop_bkg_loss: int = 100, w_self: float = 4.0,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmseg.MixedSizeSegDataPreProcessor', mean=IMAGENET_MEAN,
                                     std=IMAGENET_STD, bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.dino = DINOTeacher(**dict(dict(feats='k'), **dino))
        self.decoder = nn.Conv2d(self.dino.vit.embed_dim, 1, 1)
        self.tau, self.stop_bkg_loss, self.w_self = tau, stop_bkg_loss, w_self
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))

    def _features(self, inputs: Tensor):
        p = self.dino.patch_size
        H, W = inputs.shape[-2:]
        out = self.dino(inputs[..., :H - H % p, :W - W % p])   # FOUND crops to the patch grid
        return out, self.decoder(out.raw_keys)

    def loss(self, inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        out, preds = self._features(inputs)
        if int(self.steps) < self.stop_bkg_loss:
            objects = 1.0 - found_background(out.cls_attn, out.raw_keys, self.tau)
            losses = dict(loss_bkg=F.binary_cross_entropy_with_logits(preds, objects))
        else:
            own = (torch.sigmoid(preds.detach()) > 0.5).float()
            losses = dict(loss_self=self.w_self * F.binary_cross_entropy_with_logits(preds, own))
        self.steps += 1
        return losses

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None) -> List[SegDataSample]:
        _, preds = self._features(inputs)
        fg = torch.sigmoid(preds)
        samples = data_samples or [SegDataSample() for _ in range(inputs.shape[0])]
        for prob, sample in zip(fg, samples):
            shape = sample.metainfo.get('ori_shape', inputs.shape[-2:])[:2]
            prob = F.interpolate(prob[None], size=shape, mode='bilinear', align_corners=False)[0]
            sample.set_data(dict(pred_sem_seg=PixelData(data=(prob > 0.5).long()),
                                 seg_logits=PixelData(data=torch.cat([1 - prob, prob]))))
        return samples

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self._features(inputs)[1]

    def extract_feat(self, inputs: Tensor):
        return self._features(inputs)[0]

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        return self._features(inputs)[1]

    def train(self, mode: bool = True):
        super().train(mode)
        self.dino.train(False)
        return self

    def state_dict(self, *args, **kwargs):
        """Only the decoder (and the step count): DINO comes from its own weights."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get('prefix', '')
        keep = (prefix + 'decoder.', prefix + 'steps')
        return type(full)((k, v) for k, v in full.items() if k.startswith(keep))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        if not any(k.startswith(prefix + 'decoder.') for k in state_dict):
            raise ValueError(f'checkpoint holds no FOUND decoder weights ({prefix}decoder.weight, '
                             f'{prefix}decoder.bias; it has e.g. {sorted(state_dict)[:3]}): FOUND\'s '
                             'own decoder_weights.pt converts with tools/convert_checkpoint.py '
                             '--from found')
        for name, value in nn.Module.state_dict(self, prefix=prefix).items():
            if not name.startswith((prefix + 'decoder.', prefix + 'steps')):
                state_dict.setdefault(name, value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
