"""OVSeg (Liang et al., CVPR 2023): masks, then CLIP names each masked crop.

image (RGB, 0-255) → masks (OVSeg's proposal stage ``proposals/``, the mask-source slot, or given)
→ masked crops (``mask_crops.py``) → CLIP with optional mask prompts (``mask_prompts.py``) → class
probabilities per mask (with proposals: ensembled with the proposal classifier's) → semantic map
Σ_n p_n(c) · m_n (ov-seg ``ovseg_model.py:231-256``) → labels.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor, nn

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
from .trained_parts import TrainedParts

DEFAULT_TEST_CFG = dict(
    mask_thr=0.4,        # a mask pixel is kept above this (ViT-L config; 0.5 for ViT-B)
    expand_ratio=1.0,    # box scale about its centre before cropping
    temperature=100.0,   # fixed logit scale of the crop-text cosine (not CLIP's logit_scale)
    keep_logits=True,    # store the (K, H, W) semantic scores in `seg_logits`
    clip_ensemble=True,  # with proposals: CLIP's crop scores join the proposal classifier's
    ensemble_weight=0.7,  # p = p_proposal^(1-w) · p_clip^w (ov-seg ovseg_model.py:244-248); 0: CLIP only
)


@MODELS.register_module()
class OVSegSegmentor(TrainedParts, BaseSegmentor):
    """Labels masks with a frozen CLIP; the mask prompts and the proposal stage train.

    Args:
        clip: ``create_clip`` arguments (an open_clip ViT).
        proposals: OVSeg's first stage (``OVSegProposals``: a backbone and an
            ``OpenVocabMaskFormerHead``): soft masks and their own class scores, ensembled with
            CLIP's (``test_cfg.ensemble_weight``).
        mask_source: or masks from elsewhere (``masks/``: SAMMasks, SAM2Masks, FolderMasks,
            AnnotationMasks, ProposalMasks, ...); neither: masks are given (``classify_masks``).
        mask_prompt_depth: OVSeg's mask prompts in the first blocks (3 as the authors; 0: none).
        class_names, allow_shared_names, templates, text_cache_dir: the text side
            (templates default ``'vild'``, the authors' 14).
        train_parts: what ``loss`` trains: ``'prompts'`` (mask prompt tuning on ground-truth
            class regions) and/or ``'proposals'`` (MaskFormer's losses, classes by text); default
            every part the model has (the authors train them separately).
        allow_random_heads: predict with untrained prompts / proposals (experiments).
        test_cfg: see ``DEFAULT_TEST_CFG``.
    """
    parts_name = 'mask prompts / proposal stage'

    def __init__(self,
                 clip: dict = dict(model_name='ViT-L-14', pretrained='openai', quick_gelu=True),
                 proposals: Optional[dict] = None,
                 mask_source: Optional[dict] = None,
                 mask_prompt_depth: int = 0,
                 class_names=None,
                 allow_shared_names: bool = False,
                 templates: Union[str, Sequence[str]] = 'vild',
                 text_cache_dir: Optional[str] = None,
                 train_parts: Optional[Sequence[str]] = None,
                 allow_random_heads: bool = False,
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
        if proposals is not None and mask_source is not None:
            raise ValueError('set model.proposals (OVSeg\'s own stage) or model.mask_source, not both')
        self.proposals = MODELS.build(proposals) if proposals is not None else None
        self.mask_source = build_mask_source(mask_source)
        present = (('prompts',) if mask_prompt_depth else ()) + (('proposals',) if proposals else ())
        self.train_parts = tuple(present if train_parts is None else train_parts)
        for part in self.train_parts:
            if part not in present:
                raise ValueError(f'model.train_parts names {part!r}, which this model lacks '
                                 f'(it has {list(present) or "nothing trainable"}: set '
                                 'mask_prompt_depth > 0 for prompts, model.proposals for proposals)')
        self.trained_prefixes = tuple({'prompts': 'image_encoder.mask_embedding',
                                       'proposals': 'proposals.'}[p] for p in present)
        self.init_trained_parts(allow_random_heads)
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
        """Untrained mask prompts / proposals are refused unless ``allow_random_heads``; a model
        without them (CLIP's own weights on given masks) is always ready."""
        if self.trained_prefixes:
            super().check_parts_ready()

    def state_dict(self, *args, **kwargs):
        """Only the trained parts (mask prompts, proposal stage): CLIP comes from its own file."""
        full = super().state_dict(*args, **kwargs)
        if not self.trained_prefixes:
            return full
        prefix = kwargs.get('prefix', '')
        return type(full)((k, v) for k, v in full.items()
                          if k.startswith(tuple(prefix + p for p in self.trained_prefixes)))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint must hold exactly our trained parts (else an error naming the keys); the
        frozen CLIP entries it lacks keep their values."""
        if self.trained_prefixes:
            self.check_checkpoint(state_dict, prefix)
            for name, value in nn.Module.state_dict(self, prefix=prefix).items():
                state_dict.setdefault(name, value)
            self.parts_ready = True
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

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
        ids = torch.as_tensor(self.mask_source(rgb, dict(meta, class_names=self.class_names)))
        ids = ids.to(image.device)
        ids = resize_ids(ids, tuple(image.shape[-2:]))
        present = [int(i) for i in torch.unique(ids) if i > 0]
        if not present:
            return image.new_zeros(0, *image.shape[-2:])
        return (ids[None] == torch.as_tensor(present, device=ids.device)[:, None, None]).float()

    def class_text(self, emb: ClassEmbeddings) -> Tensor:
        """(K, D) one unit text embedding per class (a class's synonyms averaged) for the proposal
        classifier; OVSeg's lists have one name per class, where this is the name's embedding."""
        queries = emb.queries.float()
        if queries.shape[0] == emb.num_classes:
            return queries
        index = emb.query_class.to(queries.device)
        summed = queries.new_zeros(emb.num_classes, queries.shape[1]).index_add_(0, index, queries)
        return F.normalize(summed, dim=-1)

    def propose(self, image: Tensor, emb: ClassEmbeddings) -> Tensor:
        """OVSeg's inference (ov-seg ``ovseg_model.py:231-256``): ``image`` (3, H, W) RGB 0-255 →
        (K, H, W) scores Σ_q p_q(c) · sigmoid(m_q), with p_q the proposal classifier's softmax
        (no-object column dropped) ensembled with CLIP's on the masked crops."""
        cfg = self.test_cfg
        logits, queries = self.proposals(image)
        text = self.class_text(emb).to(queries)
        mask_cls = F.softmax(self.proposals.head.text_logits(queries, text), dim=-1)[:, :-1]
        mask_pred = logits.sigmoid()
        if cfg['clip_ensemble']:
            clip_probs, valid = self.classify(image, mask_pred, emb)        # (K, Q), (Q,)
            w = float(cfg['ensemble_weight'])
            if w > 0:      # masks CLIP could not crop keep the proposal classifier's scores
                clip = torch.ones_like(mask_cls)
                clip[valid] = clip_probs.T[valid].to(clip)
                mask_cls = mask_cls.pow(1 - w) * clip.pow(w)
            else:
                mask_cls, mask_pred = clip_probs.T[valid].to(mask_cls), mask_pred[valid]
        return self.semantic(mask_cls.T, mask_pred)

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
        self.check_parts_ready()
        for image, meta, sample in zip(self._images(inputs, metas), metas, data_samples):
            if self.proposals is not None:
                scores = self.propose(image, emb)
            else:
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
        """The ``train_parts``' losses (CLIP stays frozen)."""
        if not self.train_parts:
            raise ValueError('nothing to train: set model.mask_prompt_depth > 0 (OVSeg uses 3) '
                             'or model.proposals')
        self.parts_ready = True
        emb = self.class_embeddings()
        losses = {}
        if 'proposals' in self.train_parts:
            losses.update(self.proposal_loss(inputs, data_samples, emb))
        if 'prompts' in self.train_parts:
            losses.update(self.prompt_loss(inputs, data_samples, emb))
        return losses

    def proposal_loss(self, inputs: Tensor, data_samples, emb: ClassEmbeddings) -> dict:
        """MaskFormer's bipartite-matching losses, the queries classified by the dataset's class
        texts and the no-object embedding (ov-seg ``ovseg_model.py:157-189``)."""
        x = torch.cat([self.proposals.normalise(img) for img in inputs])
        h, w = x.shape[-2:]
        for sample in data_samples:          # the padding is ignored ground truth
            gt = sample.gt_sem_seg.data
            sample.gt_sem_seg = PixelData(data=F.pad(gt, (0, w - gt.shape[-1], 0, h - gt.shape[-2]),
                                                     value=255))
            sample.set_metainfo(dict(img_shape=(h, w)))
        text = self.class_text(emb).to(x)
        return self.proposals.head.loss_with_text(self.proposals.backbone(x), data_samples, text)

    def prompt_loss(self, inputs: Tensor, data_samples, emb: ClassEmbeddings) -> dict:
        """Mask prompt tuning on (masked crop, class) pairs: each class region of the ground truth
        is a mask, labelled with its class; cross-entropy of the crop's class probabilities over
        the class list (CLIP frozen, the prompts train)."""
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
