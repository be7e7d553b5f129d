"""DenseCLIP for detection (Rao et al., CVPR 2022, Sec. 4.2): a CLIP ResNet whose pixel-text score
map, from context-aware prompts, joins the last feature level before the FPN, in mmdet's
RetinaNet and Mask R-CNN, with the auxiliary score-map loss."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmdet.models.detectors import MaskRCNN, RetinaNet
from mmdet.registry import MODELS as DET_MODELS
from ..authors_init import AuthorsInit
from ..clip import create_clip
from ..context_decoder import ContextDecoder
from ...utils.palette import rgb_palette
from ..heads.pixel_text_head import neck_with_scores
from ..text import parse_classes
from ..text.context_encoder import ContextTextEncoder, context_aware_scores
from ..text.text_tower import TextTower


class DenseCLIPDetection:
    """What both DenseCLIP detectors add to their mmdet class (mixed in first).

    ``extract_feat``: backbone → (c1..c4, (global, dense)); text (K, C) from learnable-context
    prompts refined by the ContextDecoder against [global; dense] (Eq. 5-6); score map
    s = cos(dense, text) / τ (B, K, h, w) (Eq. 4) concatenated to c4; FPN. ``loss`` adds the
    authors' auxiliary loss: BCE(sigmoid(s upsampled to stride 4), box masks of each class),
    counted inside the ground-truth boxes only (``detection/denseclip/denseclip.py:162-186``).
    """

    def setup_denseclip(self, clip: dict, class_names, n_ctx: int, name_length: int,
                        context_decoder: dict, tau: float, aux_weight: float, model, tokenizer,
                        init_like_authors: bool = False):
        names = [n[0] for n in parse_classes(class_names)]
        self.class_names = names
        self.dataset_meta = dict(classes=names,   # RGB tuples: mmdet's palette convention
                                 palette=[tuple(c) for c in rgb_palette(len(names))])
        self.prompt = ContextTextEncoder(TextTower(model), tokenizer, names, n_ctx=n_ctx,
                                         name_length=name_length)
        proj = self.prompt.text_projection
        visual_dim = proj.shape[-1] if isinstance(proj, torch.Tensor) else proj.out_features
        self.context_decoder = ContextDecoder(visual_dim=visual_dim, **context_decoder)
        self.tau, self.aux_weight = tau, aux_weight
        self.init_like_authors = init_like_authors
        self._scores = None

    @staticmethod
    def build_clip(clip: dict, backbone: dict):
        """One CLIP load: the image tower goes to the backbone config, the model is returned for
        the text side."""
        model, tokenizer = create_clip(**dict(clip), pos_grid=backbone.get('pos_grid'))
        backbone = dict(backbone, visual=model.visual, with_global=True)
        backbone.setdefault('type', 'mmseg.CLIPResNet')
        backbone.setdefault('frozen', False)
        backbone.setdefault('attention', 'vanilla')
        backbone.setdefault('out_indices', (0, 1, 2, 3))
        return model, tokenizer, backbone

    def extract_feat(self, batch_inputs: Tensor) -> Tuple[Tensor, ...]:
        *levels, (global_feat, dense) = self.backbone(batch_inputs)
        _, scores = context_aware_scores(self.prompt, self.context_decoder, global_feat, dense)
        scores = scores / self.tau
        self._scores = scores                   # kept for the auxiliary loss of this step
        levels[3] = torch.cat([levels[3], scores], dim=1)
        return self.neck(levels)

    def score_targets(self, shape: Tuple[int, int], batch_data_samples) -> Tuple[Tensor, Tensor]:
        """(B, K, H/4, W/4) class box masks and (B, 1, H/4, W/4) inside-any-box weights."""
        H, W = shape[0] // 4, shape[1] // 4
        K = len(self.class_names)
        target = torch.zeros(len(batch_data_samples), K, H, W)
        weight = torch.zeros(len(batch_data_samples), 1, H, W)
        for i, sample in enumerate(batch_data_samples):
            gt = sample.gt_instances
            boxes = (gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes) / 4
            boxes = boxes.long().cpu()
            boxes[:, 0::2] = boxes[:, 0::2].clamp(0, W - 1)
            boxes[:, 1::2] = boxes[:, 1::2].clamp(0, H - 1)
            for (x1, y1, x2, y2), label in zip(boxes.tolist(), gt.labels.tolist()):
                target[i, label, y1:y2, x1:x2] = 1
                weight[i, :, y1:y2, x1:x2] = 1
        return target, weight

    def aux_loss(self, batch_inputs: Tensor, batch_data_samples) -> Tensor:
        target, weight = self.score_targets(batch_inputs.shape[-2:], batch_data_samples)
        target, weight = target.to(batch_inputs.device), weight.to(batch_inputs.device)
        scores = F.interpolate(self._scores, size=target.shape[-2:], mode='bilinear',
                               align_corners=False)
        weight = weight.expand_as(target)
        loss = F.binary_cross_entropy_with_logits(scores, target, weight=weight, reduction='sum')
        return self.aux_weight * loss / weight.sum().clamp(min=1)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint of another model (a segmentation one, say) is refused, naming it: it must
        hold this detector's learned prompts and its detection head."""
        head = 'bbox_head.' if hasattr(self, 'bbox_head') else 'roi_head.'
        mine = [k for k in state_dict if k.startswith(prefix)]
        if mine and not (prefix + 'prompt.contexts' in state_dict
                         and any(k.startswith(prefix + head) for k in mine)):
            sample = sorted(mine)[:3]
            raise ValueError(f'not a {type(self).__name__} checkpoint: no prompt.contexts or '
                             f'{head}* weights (its keys look like {sample})')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        losses = super().loss(batch_inputs, batch_data_samples)   # runs extract_feat once
        losses['loss_aux_seg'] = self.aux_loss(batch_inputs, batch_data_samples)
        self._scores = None
        return losses


def _denseclip_kwargs(kwargs: dict) -> dict:
    return {k: kwargs.pop(k) for k in ('n_ctx', 'name_length', 'context_decoder', 'tau',
                                       'aux_weight', 'init_like_authors') if k in kwargs}


DEFAULTS = dict(n_ctx=8, name_length=5, tau=0.07, aux_weight=1.0, init_like_authors=False,
                context_decoder=dict(width=256, heads=4, layers=3, dropout=0.1))


@DET_MODELS.register_module()
class DenseCLIPRetinaNet(AuthorsInit, DenseCLIPDetection, RetinaNet):
    """mmdet's RetinaNet on a CLIP ResNet with DenseCLIP's score map (``DenseCLIPDetection``).

    Args:
        clip: ``create_clip`` settings (one load for backbone and text).
        class_names: the detector's classes, in the dataset's order.
        backbone: ``CLIPResNet`` options (``pos_grid``, ``pos_resize``); the tower comes from clip.
        neck: FPN over the backbone's widths; the K score-map channels are added to c4's entry.
        init_like_authors: keep neck and heads as built (``models/authors_init.py``).
    """

    def __init__(self, clip: dict, class_names, backbone: dict, neck: dict, bbox_head: dict,
                 train_cfg=None, test_cfg=None, data_preprocessor=None, init_cfg=None, **kwargs):
        extra = {**DEFAULTS, **_denseclip_kwargs(kwargs)}
        if kwargs:
            raise TypeError(f'unexpected arguments {sorted(kwargs)}')
        model, tokenizer, backbone = self.build_clip(clip, backbone)
        neck = neck_with_scores(neck, len(parse_classes(class_names)), index=3)   # scores on c4
        super().__init__(backbone=backbone, neck=neck, bbox_head=bbox_head, train_cfg=train_cfg,
                         test_cfg=test_cfg, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.setup_denseclip(clip, class_names, model=model, tokenizer=tokenizer, **extra)


@DET_MODELS.register_module()
class DenseCLIPMaskRCNN(AuthorsInit, DenseCLIPDetection, MaskRCNN):
    """mmdet's Mask R-CNN on a CLIP ResNet with DenseCLIP's score map (see
    ``DenseCLIPRetinaNet`` for the arguments)."""

    def __init__(self, clip: dict, class_names, backbone: dict, neck: dict, rpn_head: dict,
                 roi_head: dict, train_cfg=None, test_cfg=None, data_preprocessor=None,
                 init_cfg=None, **kwargs):
        extra = {**DEFAULTS, **_denseclip_kwargs(kwargs)}
        if kwargs:
            raise TypeError(f'unexpected arguments {sorted(kwargs)}')
        model, tokenizer, backbone = self.build_clip(clip, backbone)
        neck = neck_with_scores(neck, len(parse_classes(class_names)), index=3)   # scores on c4
        super().__init__(backbone=backbone, neck=neck, rpn_head=rpn_head, roi_head=roi_head,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.setup_denseclip(clip, class_names, model=model, tokenizer=tokenizer, **extra)

