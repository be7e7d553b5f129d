"""A MaskFormer (Cheng et al., NeurIPS 2021) or Mask2Former (Cheng et al., CVPR 2022), mmseg's
heads, trained class-agnostically: every ground-truth class region is one mask of the single class
"region"; at test each query gives a soft mask and an objectness (its softmax probability of
"region" against "no object")."""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.decode_heads import Mask2FormerHead, MaskFormerHead
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def with_maskformer_losses(kwargs: dict, no_object_weight: float = 0.1) -> dict:
    """A MaskFormerHead's ``kwargs`` with MaskFormer's criterion and matcher where they are not
    given, as OVSeg trains it (ov-seg ``mask_former_model.py`` from_config; config
    NO_OBJECT_WEIGHT 0.1, MASK_WEIGHT 20, DICE_WEIGHT 1; mmseg's configs/maskformer alike): sigmoid
    focal and dice mask losses, cross-entropy over the classes + no-object."""
    defaults = dict(
        loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0,
                      reduction='mean', class_weight=[1.0, no_object_weight]),
        loss_mask=dict(type='mmdet.FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25,
                       reduction='mean', loss_weight=20.0),
        loss_dice=dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True, reduction='mean',
                       naive_dice=True, eps=1.0, loss_weight=1.0),
        train_cfg=dict(assigner=dict(type='mmdet.HungarianAssigner', match_costs=[
            dict(type='mmdet.ClassificationCost', weight=1.0),
            dict(type='mmdet.FocalLossCost', weight=20.0, binary_input=True),
            dict(type='mmdet.DiceCost', weight=1.0, pred_act=True, eps=1.0)]),
            sampler=dict(type='mmdet.MaskPseudoSampler')))
    return {**kwargs, **{key: ConfigDict(kwargs.get(key) or value) for key, value in defaults.items()}}


class OneRegionClass:
    """Mixin for mmseg's mask-classification heads: one class, the ground truth's class regions
    become masks labelled 0. ``predict_proposals`` → (B, Q, H, W) mask probabilities at the input
    size, (B, Q) objectness."""

    def _seg_data_to_instance_data(self, batch_data_samples):
        instances, metas = super()._seg_data_to_instance_data(batch_data_samples)
        for inst in instances:
            inst.labels = torch.zeros_like(inst.labels)
        return instances, metas

    def predict_proposals(self, x: Tuple[Tensor], batch_img_metas: List[dict]) -> Tuple[Tensor, Tensor]:
        samples = []
        for meta in batch_img_metas:
            meta = dict(meta, batch_input_shape=meta.get('batch_input_shape', meta['img_shape']))
            samples.append(SegDataSample(metainfo=meta))
        all_cls, all_masks = self(x, samples)
        masks = F.interpolate(all_masks[-1], size=samples[0].metainfo['batch_input_shape'],
                              mode='bilinear', align_corners=False).sigmoid()
        return masks, F.softmax(all_cls[-1], dim=-1)[..., 0]


@MODELS.register_module()
class ClassAgnosticMaskFormerHead(OneRegionClass, MaskFormerHead):
    """mmseg's MaskFormerHead with one class "region" (see ``OneRegionClass``), trained with
    MaskFormer's losses unless the config gives others."""

    def __init__(self, **kwargs):
        kwargs['num_classes'] = 1
        super().__init__(**with_maskformer_losses(kwargs))


@MODELS.register_module()
class ClassAgnosticMask2FormerHead(OneRegionClass, Mask2FormerHead):
    """mmseg's Mask2FormerHead (masked attention, multi-scale deformable pixel decoder) with one
    class "region" (see ``OneRegionClass``)."""

    def __init__(self, **kwargs):
        kwargs['num_classes'] = 1
        super().__init__(**kwargs)


@MODELS.register_module()
class ProposalGenerator(EncoderDecoder):
    """Backbone → ``ClassAgnosticMaskFormerHead``; ``predict`` stores each image's proposals
    (``proposal_masks`` (Q, H, W) probabilities at the original size, ``proposal_scores`` (Q,))
    and, for the visualiser, ``pred_sem_seg``: the best-scoring proposal covering each pixel."""

    def proposals(self, inputs: Tensor, metas: List[dict]) -> Tuple[Tensor, Tensor]:
        return self.decode_head.predict_proposals(self.extract_feat(inputs), metas)

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None):
        shape = tuple(inputs.shape[-2:])
        metas = ([dict(s.metainfo, batch_input_shape=shape) for s in data_samples]
                 if data_samples is not None else
                 [dict(img_shape=shape, ori_shape=shape, batch_input_shape=shape)] * len(inputs))
        masks, scores = self.proposals(inputs, metas)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in metas]
        for m, s, meta, sample in zip(masks, scores, metas, data_samples):
            h, w = meta['img_shape'][:2]
            m = F.interpolate(m[None, :, :h, :w], size=tuple(meta.get('ori_shape', (h, w))[:2]),
                              mode='bilinear', align_corners=False)[0]
            sample.set_field(m, 'proposal_masks')
            sample.set_field(s, 'proposal_scores')
            ids = ((m > 0.5) * s[:, None, None]).argmax(0)
            sample.set_data(dict(pred_sem_seg=PixelData(data=ids[None])))
        return data_samples
