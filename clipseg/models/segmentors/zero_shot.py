"""Training-free open-vocabulary segmentor: CLIP dense features · class text embeddings."""
import math
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..backbones import build_clip_adapter
from ..clip_loader import create_clip
from ..pamr import PAMR
from ..text import ClassEmbeddings, TextClassifier
from .windows import resize_matrix, slide_windows

OPENAI_MEAN = [0.48145466 * 255, 0.4578275 * 255, 0.40821073 * 255]
OPENAI_STD = [0.26862954 * 255, 0.26130258 * 255, 0.27577711 * 255]

DEFAULT_TEST_CFG = dict(
    mode='slide',          # 'slide' or 'whole'
    crop_size=(224, 224),  # slide window (SCLIP: 224/112 at short side 336)
    stride=(112, 112),
    logit_scale=40.0,      # temperature of the softmax over queries (SCLIP default)
    prob_thd=0.0,          # below this class probability a pixel becomes class `bg_idx`
    area_thd=None,         # classes covering less than this image share are dropped (not bg_idx)
    bg_idx=0,
    pamr_steps=0,          # PAMR refinement iterations (0 = off)
    pamr_dilations=(8, 16),
    max_windows=16,        # windows per backbone forward: bounds memory in slide mode
    keep_logits=True,      # store per-class probabilities in `seg_logits`
    band_bytes=2 ** 28,    # memory per band of the full-resolution output
)


def weights_id(model_name: str, pretrained: Optional[str]) -> Optional[str]:
    """A string naming the weights for cache keys; ``None`` for random weights."""
    if not pretrained:
        return None
    if os.path.isfile(pretrained):
        st = os.stat(pretrained)
        return f'{os.path.abspath(pretrained)}:{st.st_size}:{int(st.st_mtime)}'
    return f'{model_name}:{pretrained}'


@MODELS.register_module()
class ZeroShotSegmentor(BaseSegmentor):
    """Segments images into free-text classes with a frozen CLIP (MaskCLIP family).

    Per window: dense features (B, D, h, w) from the backbone adapter, cosine similarity with the
    class queries → (B, Q, h, w), bilinear upsampling to the window; windows of one image are
    averaged. Per image: resize to the original shape, optional PAMR, softmax(logit_scale · s) over
    queries, max over each class's synonyms (SCLIP), area and probability thresholds, argmax.

    Args:
        clip: ``create_clip`` arguments: ``model_name``, ``pretrained`` (tag, local file or None),
            optionally ``model_cfg`` for an explicit architecture.
        attention: last-block attention variant (``'maskclip'``, ``'sclip'``, ...).
        class_names: default class list (names file, ``'a,b'`` or list); ``set_classes`` changes it.
        templates: prompt template set or list.
        text_cache_dir: optional folder for the on-disk text-embedding cache.
        test_cfg: inference settings, see ``DEFAULT_TEST_CFG``.
    """

    def __init__(self,
                 clip: dict = dict(model_name='ViT-B-16', pretrained='openai'),
                 attention: Union[str, dict] = 'maskclip',
                 class_names=None,
                 templates: Union[str, Sequence[str]] = 'openai_imagenet',
                 text_cache_dir: Optional[str] = None,
                 backbone_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='mmseg.MixedSizeSegDataPreProcessor', mean=OPENAI_MEAN, std=OPENAI_STD,
                                     bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        clip = dict(clip)
        model, tokenizer = create_clip(**clip)
        self.backbone = build_clip_adapter(model.visual, attention, **(backbone_cfg or {}))
        self.text_encoder = TextClassifier(
            model, tokenizer, templates, model_name=clip.get('model_name', ''),
            weights_id=weights_id(clip.get('model_name', ''), clip.get('pretrained')),
            cache_dir=text_cache_dir)
        self.test_cfg = {**DEFAULT_TEST_CFG, **(test_cfg or {})}
        if self.test_cfg['mode'] not in ('slide', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide' or 'whole', got {self.test_cfg['mode']!r}")
        steps = self.test_cfg['pamr_steps']
        self.pamr = PAMR(steps, self.test_cfg['pamr_dilations']) if steps else None
        self.class_names = class_names
        self.align_corners = False

    # ----- classes -----------------------------------------------------------------------------
    def set_classes(self, class_names) -> None:
        """Use these classes from now on (names file, ``'a,b'`` or list; ``;`` joins synonyms)."""
        self.text_encoder(class_names)  # validate (and cache) now, not at the first image
        self.class_names = class_names

    def class_embeddings(self) -> ClassEmbeddings:
        if self.class_names is None:
            raise ValueError('no classes set: pass class_names in the config or call set_classes()')
        return self.text_encoder(self.class_names)

    # ----- one window --------------------------------------------------------------------------
    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        return self.backbone(inputs)

    def dense_features(self, crops: Tensor) -> Tensor:
        """(N, 3, h, w) normalised crops → (N, D, h/p, w/p) features in CLIP's joint space."""
        return self.backbone(crops)[-1]

    def window_logits(self, crops: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(N, 3, hc, wc) → (N, Q, hc, wc) cosine similarities, upsampled from the patch grid."""
        feats = F.normalize(self.dense_features(crops).float(), dim=1)
        logits = torch.einsum('ndhw,qd->nqhw', feats, emb.queries.float())
        ph, pw = self.backbone.patch_size
        hc, wc = crops.shape[-2:]
        padded = (math.ceil(hc / ph) * ph, math.ceil(wc / pw) * pw)
        logits = F.interpolate(logits, size=padded, mode='bilinear', align_corners=False)
        return logits[..., :hc, :wc]

    # ----- one batch ---------------------------------------------------------------------------
    def image_logits(self, images: List[Tensor], emb: ClassEmbeddings) -> List[Tensor]:
        """Each (3, H_i, W_i) image → (Q, H_i, W_i) window-averaged logits. Windows of all images
        go through the backbone together, ``max_windows`` at a time, grouped by crop size."""
        cfg = self.test_cfg
        jobs = []  # (image index, y1, x1, y2, x2)
        for i, img in enumerate(images):
            H, W = img.shape[-2:]
            if cfg['mode'] == 'whole':
                jobs.append((i, 0, 0, H, W))
            else:
                jobs += [(i, *win) for win in slide_windows(H, W, tuple(cfg['crop_size']),
                                                            tuple(cfg['stride']))]
        Q = emb.queries.shape[0]
        sums = [img.new_zeros((Q, *img.shape[-2:]), dtype=torch.float32) for img in images]
        counts = [img.new_zeros((1, *img.shape[-2:]), dtype=torch.float32) for img in images]
        by_size: Dict[Tuple[int, int], list] = {}
        for job in jobs:
            by_size.setdefault((job[3] - job[1], job[4] - job[2]), []).append(job)
        for group in by_size.values():
            for start in range(0, len(group), cfg['max_windows']):
                chunk = group[start:start + cfg['max_windows']]
                crops = torch.stack([images[i][:, y1:y2, x1:x2] for i, y1, x1, y2, x2 in chunk])
                for (i, y1, x1, y2, x2), logit in zip(chunk, self.window_logits(crops, emb)):
                    sums[i][:, y1:y2, x1:x2] += logit
                    counts[i][:, y1:y2, x1:x2] += 1
        return [s / c for s, c in zip(sums, counts)]

    def _class_probs(self, logits: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(Q, ...) query logits → (K, ...) class probabilities (max over each class's synonyms)."""
        probs = F.softmax(logits * self.test_cfg['logit_scale'], dim=0)
        if probs.shape[0] == emb.num_classes:
            return probs
        out = probs.new_zeros((emb.num_classes, *probs.shape[1:]))
        index = emb.query_class.view(-1, *([1] * (probs.dim() - 1))).expand_as(probs)
        return out.scatter_reduce(0, index, probs, reduce='amax', include_self=False)

    def _labels(self, probs: Tensor, dropped: Optional[Tensor]) -> Tensor:
        """(K, ...) probabilities → (...) labels with the area and probability thresholds."""
        cfg = self.test_cfg
        if dropped is not None:
            probs = probs * (~dropped).to(probs.dtype).view(-1, *([1] * (probs.dim() - 1)))
        best, labels = probs.max(dim=0)
        if cfg['prob_thd'] > 0:
            labels[best < cfg['prob_thd']] = cfg['bg_idx']
        return labels

    def finish_image(self, logits: Tensor, out_shape: Tuple[int, int], emb: ClassEmbeddings,
                     image: Optional[Tensor] = None) -> Tuple[Tensor, Optional[Tensor]]:
        """(Q, h, w) logits → (H, W) labels and optional (K, H, W) probabilities at ``out_shape``.

        The bilinear resize is done as two matrix products, band by band, so memory stays
        bounded by ``band_bytes`` for any output size unless PAMR or ``keep_logits`` needs all."""
        cfg = self.test_cfg
        H, W = out_shape
        Q, h, w = logits.shape
        if self.pamr is not None:
            full = F.interpolate(logits[None], size=out_shape, mode='bilinear', align_corners=False)
            img = F.interpolate(image[None].float(), size=out_shape, mode='bilinear', align_corners=False)
            logits, (h, w) = self.pamr(img, full)[0], (H, W)
        Ry = resize_matrix(h, H, logits.device)
        cols = torch.einsum('qhw,wx->qhx', logits, resize_matrix(w, W, logits.device))
        band = max(1, int(cfg['band_bytes'] // (4 * max(Q, 1) * W * 2)))

        def bands():
            for r0 in range(0, H, band):
                yield r0, self._class_probs(torch.einsum('hy,qhx->qyx', Ry[:, r0:r0 + band], cols), emb)

        K = emb.num_classes
        labels = torch.empty((H, W), dtype=torch.long, device=logits.device)
        if not cfg['keep_logits'] and Q == K and not cfg['prob_thd'] and cfg['area_thd'] is None:
            # labels only: softmax is monotonic, so the argmax of the resized logits is enough
            for r0 in range(0, H, band):
                labels[r0:r0 + band] = torch.einsum('hy,qhx->qyx', Ry[:, r0:r0 + band], cols).argmax(0)
            return labels, None
        probs_out = logits.new_empty((K, H, W)) if cfg['keep_logits'] else None
        area = torch.zeros(K, device=logits.device)
        for r0, probs in bands():
            labels[r0:r0 + probs.shape[1]] = self._labels(probs, None)
            area += torch.bincount(probs.argmax(dim=0).flatten(), minlength=K)
            if probs_out is not None:
                probs_out[:, r0:r0 + probs.shape[1]] = probs
        if cfg['area_thd'] is not None:
            # SCLIP: a class (not background) whose argmax area is below area_thd is dropped.
            dropped = area < cfg['area_thd'] * area.sum()
            dropped[cfg['bg_idx']] = False
            if dropped.any():
                if probs_out is not None:
                    labels = self._labels(probs_out, dropped)
                else:
                    for r0, probs in bands():
                        labels[r0:r0 + probs.shape[1]] = self._labels(probs, dropped)
        return labels, probs_out

    # ----- mmseg interface ---------------------------------------------------------------------
    def _valid_images(self, inputs: Tensor, metas: List[dict]) -> List[Tensor]:
        images = []
        for img, meta in zip(inputs, metas):
            h, w = meta.get('img_shape', img.shape[-2:])[:2]
            images.append(img[:, :h, :w])
        return images

    def _metas(self, inputs: Tensor, data_samples) -> List[dict]:
        if data_samples is None:
            shape = tuple(inputs.shape[-2:])
            return [dict(ori_shape=shape, img_shape=shape) for _ in range(inputs.shape[0])]
        return [ds.metainfo for ds in data_samples]

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None) -> List[SegDataSample]:
        """(B, 3, H, W) normalised images → one ``SegDataSample`` per image with ``pred_sem_seg``
        (1, H_ori, W_ori) and, with ``keep_logits``, ``seg_logits`` (K, H_ori, W_ori) probabilities."""
        emb = self.class_embeddings()
        metas = self._metas(inputs, data_samples)
        images = self._valid_images(inputs, metas)
        all_logits = self.image_logits(images, emb)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in images]
        for img, logits, meta, sample in zip(images, all_logits, metas, data_samples):
            ori = tuple(meta.get('ori_shape', img.shape[-2:])[:2])
            labels, probs = self.finish_image(logits, ori, emb, img)
            sample.set_data(dict(pred_sem_seg=PixelData(data=labels[None])))
            if probs is not None:
                sample.set_data(dict(seg_logits=PixelData(data=probs)))
        return data_samples

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(B, 3, H, W) → (B, Q, H, W) query logits at input resolution (same-size images)."""
        emb = self.class_embeddings()
        return torch.stack(self.image_logits(self._valid_images(inputs, batch_img_metas), emb))

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.encode_decode(inputs, self._metas(inputs, data_samples))

    def loss(self, inputs: Tensor, data_samples) -> dict:
        raise RuntimeError(f'{type(self).__name__} is training-free (zero-shot) and has nothing to '
                           'train; use a trainable model such as CLIP-DINOiser or DenseCLIP configs')
