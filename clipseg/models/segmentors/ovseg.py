"""OVSeg (Liang et al., CVPR 2023): class-agnostic masks, then CLIP names each masked crop.

image (RGB, 0-255) → masks (the mask-source slot, or given) → masked crops (``mask_crops.py``) →
CLIP with optional mask prompts (``mask_prompts.py``) → class probabilities per mask →
semantic map Σ_n p_n(c) · m_n (ov-seg ``ovseg_model.py:231-256``) → labels.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ...utils.palette import rgb_palette
from ..clip import create_clip, pixel_mean_std, weights_id
from ..heads.class_probabilities import class_probabilities
from ..mask_crops import masked_crops
from ..mask_prompts import MaskPromptedCLIP
from ..masks import build_mask_source, resize_ids
from ..text import ClassEmbeddings, TextClassifier, parse_classes

DEFAULT_TEST_CFG = dict(
    mask_thr=0.4,        # a mask pixel is kept above this (ViT-L config; 0.5 for ViT-B)
    expand_ratio=1.0,    # box scale about its centre before cropping
    temperature=100.0,   # fixed logit scale of the crop-text cosine (not CLIP's logit_scale)
    keep_logits=True,    # store the (K, H, W) semantic scores in `seg_logits`
)


@MODELS.register_module()
class OVSegSegmentor(BaseSegmentor):
    """Labels class-agnostic masks with a frozen CLIP; only the mask prompts train.

    Args:
        clip: ``create_clip`` arguments (an open_clip ViT).
        mask_source: where an image's masks come from (``masks/``: SAMMasks, SAM2Masks,
            FolderMasks, AnnotationMasks, ...); None when masks are given (``classify_masks``).
        mask_prompt_depth: OVSeg's mask prompts in the first blocks (3 as the authors; 0: none).
        class_names, allow_shared_names, templates, text_cache_dir: the text side
            (templates default ``'vild'``, the authors' 14).
        test_cfg: see ``DEFAULT_TEST_CFG``.
    """

    def __init__(self,
                 clip: dict = dict(model_name='ViT-L-14', pretrained='openai', quick_gelu=True),
                 mask_source: Optional[dict] = None,
                 mask_prompt_depth: int = 0,
                 class_names=None,
                 allow_shared_names: bool = False,
                 templates: Union[str, Sequence[str]] = 'vild',
                 text_cache_dir: Optional[str] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        clip = dict(clip)
        model, tokenizer = create_clip(**clip)
        if data_preprocessor is None:   # raw RGB 0-255: the crops are filled, then normalised
            data_preprocessor = dict(type='mmseg.MixedSizeSegDataPreProcessor', mean=None, std=None,
                                     bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        model.requires_grad_(False)
        self.clip_mean, self.clip_std = pixel_mean_std(model)
        self.image_encoder = MaskPromptedCLIP(model.visual, mask_prompt_depth)
        self.mask_source = build_mask_source(mask_source)
        self.text_encoder = TextClassifier(
            model, tokenizer, templates, model_name=clip.get('model_name', ''),
            weights_id=weights_id(clip.get('model_name', ''), clip.get('pretrained')),
            cache_dir=text_cache_dir, allow_shared_names=allow_shared_names)
        self.test_cfg = {**DEFAULT_TEST_CFG, **(test_cfg or {})}
        self.class_names, self.dataset_meta = None, None
        if class_names is not None:
            self.class_names, self.dataset_meta = self._parse_classes(class_names)

    # ----- classes (as ZeroShotSegmentor) -------------------------------------------------------
    def _parse_classes(self, class_names):
        parsed = parse_classes(class_names, self.text_encoder.allow_shared_names)
        meta = dict(classes=[names[0] for names in parsed], palette=rgb_palette(len(parsed)))
        return [';'.join(names) for names in parsed], meta

    def set_classes(self, class_names) -> None:
        names, meta = self._parse_classes(class_names)
        self.text_encoder(names)
        self.class_names, self.dataset_meta = names, meta

    def class_embeddings(self) -> ClassEmbeddings:
        if self.class_names is None:
            raise ValueError('no classes set: pass class_names in the config or call set_classes()')
        return self.text_encoder(self.class_names)

    def check_parts_ready(self) -> None:
        """Mask prompts start random (the authors' init): no trained part is required."""

    # ----- masks → class probabilities ----------------------------------------------------------
    def classify(self, image: Tensor, masks: Tensor, emb: Optional[ClassEmbeddings] = None
                 ) -> Tuple[Tensor, Tensor]:
        """``image`` (3, H, W) RGB 0-255, ``masks`` (N, H, W) → (K, N) class probabilities (zero for
        masks with no pixel above ``mask_thr``) and ``valid`` (N,) bool."""
        emb = emb or self.class_embeddings()
        cfg = self.test_cfg
        crops, crop_masks, valid = masked_crops(
            image, masks, self.clip_mean, self.clip_std, cfg['mask_thr'],
            self.image_encoder.size, cfg['expand_ratio'])
        probs = image.new_zeros(emb.num_classes, masks.shape[0], dtype=torch.float32)
        if crops.shape[0]:
            feats = self.image_encoder(crops, crop_masks)
            scores = emb.queries.to(feats) @ feats.T                              # (Q, M) cosines
            probs[:, valid] = class_probabilities(scores, emb.query_class.to(feats.device),
                                                  emb.num_classes, cfg['temperature']).float()
        return probs, valid

    def masks_for(self, image: Tensor, meta: dict) -> Tensor:
        """The mask source's regions of ``image`` (3, h, w) → (N, h, w) binary masks, one per id."""
        if self.mask_source is None:
            raise ValueError('OVSegSegmentor has no mask source: set model.mask_source (e.g. '
                             "dict(type='SAMMasks', checkpoint=...)) or give the masks "
                             '(clipseg.classify_masks, clipseg label-masks)')
        rgb = image.permute(1, 2, 0).round().clamp(0, 255).byte().cpu().numpy()
        ids = torch.as_tensor(self.mask_source(rgb, meta)).to(image.device)
        ids = resize_ids(ids, tuple(image.shape[-2:]))
        present = [int(i) for i in torch.unique(ids) if i > 0]
        if not present:
            return image.new_zeros(0, *image.shape[-2:])
        return (ids[None] == torch.as_tensor(present, device=ids.device)[:, None, None]).float()

    def semantic(self, probs: Tensor, masks: Tensor) -> Tensor:
        """(K, N) probabilities, (N, H, W) masks → (K, H, W) scores Σ_n p_n · m_n."""
        return torch.einsum('kn,nhw->khw', probs, masks.float())

    # ----- mmseg interface ----------------------------------------------------------------------
    def _images(self, inputs: Tensor, metas: List[dict]) -> List[Tensor]:
        return [img[:, :m.get('img_shape', img.shape[-2:])[0], :m.get('img_shape', img.shape[-2:])[1]]
                for img, m in zip(inputs, metas)]

    def _metas(self, inputs: Tensor, data_samples) -> List[dict]:
        if data_samples is None:
            shape = tuple(inputs.shape[-2:])
            return [dict(ori_shape=shape, img_shape=shape) for _ in range(inputs.shape[0])]
        metas = []
        for ds in data_samples:
            meta = dict(ds.metainfo)
            if 'gt_sem_seg' in ds:        # for AnnotationMasks (oracle masks)
                meta['gt_sem_seg'] = ds.gt_sem_seg.data[0]
            metas.append(meta)
        return metas

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None) -> List[SegDataSample]:
        """(B, 3, H, W) RGB 0-255 → ``pred_sem_seg`` (1, H_ori, W_ori) and ``seg_logits``."""
        emb = self.class_embeddings()
        metas = self._metas(inputs, data_samples)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in metas]
        for image, meta, sample in zip(self._images(inputs, metas), metas, data_samples):
            masks = self.masks_for(image, meta)
            probs, _ = self.classify(image, masks, emb)
            scores = self.semantic(probs, masks)
            ori = tuple(meta.get('ori_shape', image.shape[-2:])[:2])
            if scores.shape[-2:] != ori:
                scores = F.interpolate(scores[None], size=ori, mode='bilinear', align_corners=False)[0]
            sample.set_data(dict(pred_sem_seg=PixelData(data=scores.argmax(0)[None])))
            if self.test_cfg['keep_logits']:
                sample.set_data(dict(seg_logits=PixelData(data=scores)))
        return data_samples

    def loss(self, inputs: Tensor, data_samples) -> dict:
        """Mask prompt tuning on (masked crop, class) pairs: each class region of the ground truth
        is a mask, labelled with its class; cross-entropy of the crop's class probabilities over
        the class list (CLIP frozen, the prompts train)."""
        if self.image_encoder.mask_embedding is None:
            raise ValueError('nothing to train: set model.mask_prompt_depth > 0 (OVSeg uses 3)')
        emb = self.class_embeddings()
        all_crops, all_masks, targets = [], [], []
        for image, sample in zip(inputs, data_samples):
            gt = sample.gt_sem_seg.data[0].to(image.device)
            classes = [int(c) for c in torch.unique(gt) if c != 255]
            if not classes:
                continue
            masks = (gt[None] == torch.as_tensor(classes, device=gt.device)[:, None, None]).float()
            crops, crop_masks, valid = masked_crops(image, masks, self.clip_mean, self.clip_std,
                                                    0.5, self.image_encoder.size,
                                                    self.test_cfg['expand_ratio'])
            all_crops.append(crops)
            all_masks.append(crop_masks)
            targets += [c for c, v in zip(classes, valid.tolist()) if v]
        if not targets:          # no labelled pixel in the batch: a zero loss that keeps the graph
            zero = self.image_encoder.mask_embedding.sum() * 0
            return dict(loss_mpt=zero, acc_mpt=zero.detach())
        feats = self.image_encoder(torch.cat(all_crops), torch.cat(all_masks))
        scores = emb.queries.to(feats) @ feats.T
        probs = class_probabilities(scores, emb.query_class.to(feats.device), emb.num_classes,
                                    self.test_cfg['temperature'])
        target = torch.as_tensor(targets, device=feats.device)
        loss = F.nll_loss(torch.log(probs.T.clamp_min(1e-12)), target)
        acc = (probs.argmax(0) == target).float().mean()
        return dict(loss_mpt=loss, acc_mpt=acc.detach())

    def extract_feat(self, inputs: Tensor):
        raise NotImplementedError('OVSeg classifies masked crops: see classify()')

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        samples = self.predict(inputs, None)
        return torch.stack([s.seg_logits.data for s in samples])

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.encode_decode(inputs, self._metas(inputs, data_samples))


def as_mask_stack(masks, shape: Tuple[int, int]) -> Tensor:
    """(N, H, W) masks (bool/0-1/probabilities, array or tensor) → float tensor, checked against
    the image ``shape``."""
    arr = torch.as_tensor(np.asarray(masks) if not isinstance(masks, Tensor) else masks)
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or tuple(arr.shape[-2:]) != tuple(shape):
        raise ValueError(f'masks must be (N, {shape[0]}, {shape[1]}) like the image, got '
                         f'{tuple(arr.shape)}')
    if arr.shape[0] == 0:
        raise ValueError('no masks given')
    return arr.float()
