"""OVSeg's proposal head (Liang et al., CVPR 2023): mmseg's MaskFormer whose queries are classified
by CLIP text embeddings instead of a fixed linear layer (ov-seg ``open_vocab_transformer_predictor.py``,
``ovseg_model.py:157-160``), so the same weights score any class list."""
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.models.decode_heads import MaskFormerHead
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from .maskformer_proposals import with_maskformer_losses


@MODELS.register_module()
class OpenVocabMaskFormerHead(MaskFormerHead):
    """MaskFormer head → per query a unit embedding in CLIP's text space and a mask.

    ``cls_embed``: an MLP ``feat_channels → embed_hidden_dims → embed_dims`` (``embed_layers``
    linear layers with ReLU between); ``non_object_embedding`` (1, embed_dims): the learned
    "no object" class appended to the text embeddings. Logits are ``temperature`` × cosine.
    """

    def __init__(self, embed_dims: int = 768, embed_hidden_dims: int = 1024, embed_layers: int = 2,
                 temperature: float = 100.0, no_object_weight: float = 0.1, **kwargs):
        kwargs.setdefault('num_classes', 1)        # the text decides the classes
        super().__init__(**with_maskformer_losses(kwargs, no_object_weight))
        dims = [kwargs['feat_channels']] + [embed_hidden_dims] * (embed_layers - 1) + [embed_dims]
        layers = []
        for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:])):
            layers += [nn.Linear(d_in, d_out)] + ([nn.ReLU(inplace=True)] if i < len(dims) - 2 else [])
        self.cls_embed = nn.Sequential(*layers)
        self.non_object_embedding = nn.Parameter(torch.randn(1, embed_dims) * embed_dims ** -0.5)
        self.temperature = temperature
        self.no_object_weight = no_object_weight

    def text_logits(self, queries: Tensor, text: Tensor) -> Tensor:
        """(..., Q, D) query embeddings, (K, D) unit text embeddings → (..., Q, K + 1) logits; the
        last column is "no object" (ov-seg ``adapter.py:63-73, 200-206``)."""
        bank = torch.cat([text, F.normalize(self.non_object_embedding, dim=-1).to(text)])
        return self.temperature * F.normalize(queries, dim=-1) @ bank.T

    def predict_queries(self, x: Tuple[Tensor], batch_input_shape: Tuple[int, int]
                        ) -> Tuple[Tensor, Tensor]:
        """Features → (B, Q, D) query embeddings (last decoder layer) and (B, Q, h, w) mask logits
        at the pixel decoder's stride. No padding mask: the padded input counts as image, as in
        OVSeg (its decoder takes no mask)."""
        meta = dict(batch_input_shape=batch_input_shape, img_shape=batch_input_shape)
        samples = [SegDataSample(metainfo=meta) for _ in range(x[0].shape[0])]
        all_queries, all_masks = self(x, samples)
        return all_queries[-1], all_masks[-1]

    def loss_with_text(self, x: Tuple[Tensor], batch_data_samples: List[SegDataSample],
                       text: Tensor) -> dict:
        """MaskFormer's matching and losses with logits against the dataset's class texts."""
        instances, metas = self._seg_data_to_instance_data(batch_data_samples)
        all_queries, all_masks = self(x, batch_data_samples)
        self.num_classes = text.shape[0]
        weights = [1.0] * self.num_classes + [self.no_object_weight]   # MaskFormer's eos_coef
        self.class_weight = self.loss_cls.class_weight = weights
        return self.loss_by_feat(self.text_logits(all_queries, text), all_masks, instances, metas)
