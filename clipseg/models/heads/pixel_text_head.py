"""DenseCLIP's pixel-text matching head (Rao et al., CVPR 2022), as an mmseg decode head."""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.models.decode_heads import FPNHead
from mmseg.registry import MODELS
from ..clip import create_clip
from ..context_decoder import ContextDecoder
from ..text import parse_classes
from ..text.context_encoder import ContextTextEncoder, context_aware_scores


def neck_with_scores(neck: dict, num_classes: int, index: int) -> dict:
    """An FPN config whose ``in_channels`` are the backbone's widths → the same FPN with the K
    score-map channels added at level ``index``, where DenseCLIP concatenates the score map (so
    configs never write ``2048 + 150``)."""
    widths = list(neck['in_channels'])
    widths[index] += num_classes
    return dict(neck, in_channels=widths)


@MODELS.register_module()
class DenseCLIPHead(FPNHead):
    """Pixel-text score maps guiding an FPN decoder.

    Input: the backbone tuple ``(c1, c2, c3, c4, (global (B, C), dense (B, C, h, w)))`` of
    ``CLIPResNet``/``CLIPViT`` with ``with_global=True``. Steps:
    text (K, C) from learnable-context prompts → ContextDecoder against [global; dense] tokens
    → score map s = cos(dense, text) (B, K, h, w) → concatenated to level ``score_concat_index``
    → FPN neck → FPNHead → (B, K, H/4, W/4) logits. Training adds the identity loss
    ``identity_weight`` · CE(resize(s / τ), gt), τ = 0.07, summed over labelled pixels and divided by
    all pixels (mmseg 0.x's mean, as the authors').

    ``clip`` names the CLIP model whose frozen text tower encodes the prompts; the ``DenseCLIP``
    segmentor instead hands over its one loaded model (``clip_model``, ``tokenizer``).
    """

    def __init__(self,
                 clip: dict,
                 class_names,
                 neck: dict,
                 n_ctx: int = 8,
                 name_length: int = 5,
                 context_decoder: dict = dict(width=256, heads=4, layers=3, dropout=0.1),
                 score_concat_index: int = 3,
                 tau: float = 0.07,
                 identity_weight: float = 0.4,
                 clip_model=None,
                 tokenizer=None,
                 **kwargs):
        names = [n[0] for n in parse_classes(class_names)]
        kwargs.setdefault('num_classes', len(names))
        if kwargs['num_classes'] != len(names):
            raise ValueError(f"num_classes={kwargs['num_classes']} but {len(names)} class names given")
        super().__init__(**kwargs)
        if clip_model is None:      # stand-alone (e.g. in a stock EncoderDecoder): load CLIP here
            clip_model, tokenizer = create_clip(**clip)
        self.prompt = ContextTextEncoder(clip_model, tokenizer, names, n_ctx=n_ctx, name_length=name_length)
        visual_dim = self.prompt.text_projection.shape[-1] if isinstance(self.prompt.text_projection, torch.Tensor) \
            else self.prompt.text_projection.out_features
        self.context_decoder = ContextDecoder(visual_dim=visual_dim, **context_decoder)
        neck = neck_with_scores(neck, len(names), score_concat_index)
        self.neck = MODELS.build(dict(neck, type=neck.get('type', 'mmseg.FPN')))
        self.score_concat_index = score_concat_index
        self.tau, self.identity_weight = tau, identity_weight
        self.class_names = names

    def text_and_scores(self, inputs: Sequence) -> Tuple[Tensor, Tensor, List[Tensor]]:
        """→ text (B, K, C), scores (B, K, h, w), the four levels with the scores concatenated."""
        *levels, (global_feat, dense) = inputs
        text, scores = context_aware_scores(self.prompt, self.context_decoder, global_feat, dense)
        i = self.score_concat_index
        levels[i] = torch.cat([levels[i], F.interpolate(scores, size=levels[i].shape[-2:], mode='bilinear',
                                                        align_corners=False)], dim=1)
        return text, scores, levels

    def forward(self, inputs) -> Tensor:
        return self._forward(inputs)[0]

    def _forward(self, inputs) -> Tuple[Tensor, Tensor]:
        _, scores, levels = self.text_and_scores(inputs)
        return super().forward(list(self.neck(levels))), scores

    def loss(self, inputs, batch_data_samples, train_cfg) -> Dict[str, Tensor]:
        seg_logits, scores = self._forward(inputs)
        losses = self.loss_by_feat(seg_logits, batch_data_samples)
        gt = self._stack_batch_gt(batch_data_samples).squeeze(1)
        scores = F.interpolate(scores / self.tau, size=gt.shape[-2:], mode='bilinear',
                               align_corners=self.align_corners)
        # DenseCLIP Sec. 3.4: identity (auxiliary) loss on the pixel-text score maps, averaged over
        # all pixels, ignored ones included (mmseg 0.x CrossEntropyLoss, as the authors trained)
        per_pixel = F.cross_entropy(scores, gt, ignore_index=self.ignore_index, reduction='none')
        losses['loss_identity'] = self.identity_weight * per_pixel.sum() / gt.numel()
        return losses
