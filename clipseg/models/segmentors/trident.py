"""Trident (Shi et al., ICCV 2025), splice-then-segment: CLIP features of 336-pixel sub-images
(ProxyCLIP-pooled by DINO ViT-B/16) are spliced into one map, aggregated over the whole image by
SAM's last global attention, then refined by SAM prompted with each class region."""
import math
import os
from typing import List, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..proxies.sam_proxy import build_sam, import_segment_anything
from .sam_refinement import sam_refine
from .windows import slide_windows
from .zero_shot import ZeroShotSegmentor

TRIDENT_TEST_CFG = dict(
    mode='slide', crop_size=(336, 336), stride=(224, 224), logit_scale=40.0,
    cos_fac=1.2,            # SAM pairs kept where their value cosine exceeds cos_fac × its mean
    refine_neg_cos=True,    # False: a negative threshold becomes 0.6 (Cityscapes, ADE20K)
    sam_halves=False,       # Cityscapes: SAM sees the left and right halves separately
    sam_refine=True, coarse_thresh=0.2, sam_iou_thresh=0.8, minimal_area=225, sam_mask_coeff=0.005,
    sam_prompt_3d=True)     # the mask prompt shaped as the authors pass it (see sam_refine)


def fit_to_stride(x: Tensor, stride: int, crop: int) -> Tensor:
    """(B, 3, H, W) → sides multiples of ``stride`` and at least ``crop``: the long side rounded
    up, the short one scaled alike (truncated) then rounded up; bilinear (utils.py:9-25)."""
    h, w = x.shape[-2:]
    if h % stride == 0 and w % stride == 0:
        return x
    long = max(h, w)
    dst = math.ceil(long / stride) * stride
    nh, nw = int(h * dst / long), int(w * dst / long)
    nh, nw = max(math.ceil(nh / stride) * stride, crop), max(math.ceil(nw / stride) * stride, crop)
    return F.interpolate(x, size=(nh, nw), mode='bilinear', align_corners=False)


def sam_affinity(attn: Tensor, values: Tensor, cos_fac: float, refine_neg_cos: bool) -> Tensor:
    """SAM's last attention (heads, N, N) kept where the cosine of its value vectors (heads, N, d)
    exceeds cos_fac × the query's mean cosine (over heads and keys; at most 0.9; negative → 0.6
    unless ``refine_neg_cos``), averaged over heads, rows normalised → (N, N) (transformer.py:643-659)."""
    v = F.normalize(values, dim=-1)
    cos = v @ v.transpose(1, 2)
    thr = cos_fac * cos.mean(dim=0, keepdim=True).mean(dim=-1, keepdim=True)
    if not refine_neg_cos:
        thr = torch.where(thr < 0, torch.full_like(thr, 0.6), thr)
    thr = thr.clamp(max=0.9)
    kept = torch.where(cos > thr, attn, torch.zeros_like(attn)).mean(0)
    return kept / kept.sum(-1, keepdim=True)


@MODELS.register_module()
class TridentSegmentor(ZeroShotSegmentor):
    """Trident: the ZeroShotSegmentor's CLIP, text and classes, with ``proxy`` = DINO ViT-B/16 for
    the sub-images (ProxyCLIP's pooling, one mean over all of an image's windows) and ``sam``
    (``build_sam``: the released ViT-B file) for the whole-image aggregation and the refinement.
    SAM sees the original image file when the sample names one (as the authors), else the input
    resized back to the original shape. ``test_cfg``: ``TRIDENT_TEST_CFG`` and the usual keys."""

    def __init__(self, sam: dict = dict(variant='vit_b', checkpoint=None), **kwargs):
        kwargs.setdefault('attention', dict(type='ProxyCLIPAttention', mean_over='batch'))
        kwargs['test_cfg'] = {**TRIDENT_TEST_CFG, **(kwargs.get('test_cfg') or {})}
        super().__init__(**kwargs)
        if getattr(self.backbone, 'proxy', None) is None:
            raise ValueError('Trident needs its DINO proxy: set model.proxy=dict(type=\'TimmProxy\', '
                             'model_name=\'vit_base_patch16_224.dino\')')
        self.sam = build_sam(**sam, key='model.sam').requires_grad_(False)
        last = self.sam.image_encoder.blocks[-1]
        if last.window_size != 0:
            raise ValueError('Trident needs SAM\'s last encoder block to attend globally')
        self._captured = None
        last.attn.register_forward_hook(self._capture)
        self.predictor = import_segment_anything().SamPredictor(self.sam)

    def _capture(self, module, inputs, output):
        """SAM's last attention (B, heads, N, N) and values (B, heads, h, w, d), from its input."""
        from segment_anything.modeling.image_encoder import add_decomposed_rel_pos
        x = inputs[0]
        B, H, W, _ = x.shape
        qkv = module.qkv(x).reshape(B, H * W, 3, module.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, B * module.num_heads, H * W, -1).unbind(0)
        attn = (q * module.scale) @ k.transpose(-2, -1)
        if module.use_rel_pos:
            attn = add_decomposed_rel_pos(attn, q, module.rel_pos_h, module.rel_pos_w, (H, W), (H, W))
        heads = module.num_heads
        self._captured = (attn.softmax(-1).view(B, heads, H * W, H * W), v.view(B, heads, H, W, -1))

    def train(self, mode: bool = True):
        super().train(mode)
        self.sam.eval()
        return self

    # ----- SAM -----------------------------------------------------------------------------------
    def sam_image(self, image: Tensor, meta: dict, ori: Tuple[int, int]) -> np.ndarray:
        """The original image as RGB uint8: the file named in ``meta`` when there is one (the
        authors re-read it), else the normalised input de-normalised and resized to ``ori``."""
        path = meta.get('img_path')
        if path and os.path.isfile(str(path)):
            bgr = cv2.imread(str(path))
            if bgr is not None:
                return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        mean, std = self.data_preprocessor.mean, self.data_preprocessor.std
        rgb = (image.float() * std + mean)[None]
        rgb = F.interpolate(rgb, size=ori, mode='bilinear', align_corners=False)[0]
        return rgb.clamp(0, 255).round().byte().permute(1, 2, 0).cpu().numpy()

    def sam_features(self, rgb: np.ndarray, patch: int = 16) -> Tuple[Tensor, Tensor]:
        """``set_image`` on the predictor → the valid part of SAM's last attention (heads, n, n)
        and values (heads, vh, vw, d) (trident.py:112-128)."""
        self.predictor.set_image(rgb)
        attn, v = self._captured
        self._captured = None
        vh, vw = self.predictor.input_size[0] // patch, self.predictor.input_size[1] // patch
        side = v.shape[2]
        attn = attn[0].view(-1, side, side, side, side)[:, :vh, :vw, :vh, :vw]
        return attn.reshape(attn.shape[0], vh * vw, vh * vw), v[0, :, :vh, :vw]

    # ----- one image ---------------------------------------------------------------------------
    def spliced_features(self, image: Tensor) -> Tensor:
        """(3, H, W) normalised image → (D, H'/p, W'/p): the windows' proxy-pooled last-block
        tokens (before ln_post), averaged where windows overlap (transformer.py:557-618)."""
        cfg, adapter = self.test_cfg, self.backbone
        p = adapter.patch_size[0]
        crop, stride = int(cfg['crop_size'][0]), int(cfg['stride'][0])
        x = fit_to_stride(image[None].float(), p, crop)
        H, W = x.shape[-2:]
        boxes = slide_windows(H, W, (crop, crop), (stride, stride))
        crops = torch.cat([x[..., y1:y2, x1:x2] for y1, x1, y2, x2 in boxes])
        tokens, grid = adapter.embed(crops)
        out, size = adapter.attention.run_guided(adapter.visual, tokens, grid,
                                                 adapter.guide_features(crops))
        maps = out[:, 1:].transpose(1, 2).reshape(len(boxes), -1, *size)
        cells = crop // p
        if size != (cells, cells):      # ViT-H/14 under DINO ViT-B/16: back to CLIP's cells
            maps = F.interpolate(maps, size=(cells, cells), mode='bilinear', align_corners=False)
        total = maps.new_zeros(maps.shape[1], H // p, W // p)
        count = maps.new_zeros(1, H // p, W // p)
        for (y1, x1, y2, x2), m in zip(boxes, maps):
            total[:, y1 // p:y2 // p, x1 // p:x2 // p] += m
            count[:, y1 // p:y2 // p, x1 // p:x2 // p] += 1
        return total / count

    def trident_logits(self, image: Tensor, rgb: np.ndarray, emb, ori: Tuple[int, int]) -> Tensor:
        """(3, H, W) normalised image and the RGB original → (Q, H0, W0) cosine scores."""
        cfg, visual = self.test_cfg, self.backbone.visual
        p = self.backbone.patch_size[0]
        h0, w0 = rgb.shape[:2]
        th, tw = math.ceil(h0 / p) * p, math.ceil(w0 / p) * p
        sam_rgb = cv2.resize(rgb, (tw, th)) if (th, tw) != (h0, w0) else rgb
        spliced = self.spliced_features(image)
        parts = [sam_rgb[:, :tw // 2], sam_rgb[:, tw // 2:]] if cfg['sam_halves'] else [sam_rgb]
        half = spliced.shape[-1] // 2
        halves = [spliced[..., :half], spliced[..., half:]] if cfg['sam_halves'] else [spliced]
        outs = []
        for part, feats in zip(parts, halves):
            attn, values = self.sam_features(part)
            vh, vw = values.shape[1:3]
            feats = F.interpolate(feats[None], size=(vh, vw), mode='bilinear', align_corners=False)[0]
            affinity = sam_affinity(attn.float(), values.float().flatten(1, 2), cfg['cos_fac'],
                                    cfg['refine_neg_cos'])
            outs.append((affinity @ feats.flatten(1).t()).t().reshape(-1, vh, vw))
        if cfg['sam_halves'] and cfg['sam_refine']:
            self.predictor.set_image(sam_rgb)                 # refinement prompts the whole image
        feats = torch.cat(outs, dim=-1)
        D, vh, vw = feats.shape
        dense = F.normalize(visual.ln_post(feats.flatten(1).t()) @ visual.proj, dim=-1)
        logits = (dense @ F.normalize(emb.queries.float(), dim=-1).t()).t().reshape(-1, vh, vw)
        return F.interpolate(logits[None], size=ori, mode='bilinear', align_corners=False)[0]

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None) -> List[SegDataSample]:
        emb = self.class_embeddings()
        metas = self._metas(inputs, data_samples)
        images = self._valid_images(inputs, metas)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in images]
        for img, meta, sample in zip(images, metas, data_samples):
            ori = tuple(meta.get('ori_shape', img.shape[-2:])[:2])
            cfg = {**self.test_cfg, **{k: meta[k] for k in ('prob_thd', 'bg_idx') if k in meta}}
            rgb = self.sam_image(img, meta, ori)
            logits = self.trident_logits(img, rgb, emb, ori)
            probs = self.decode_head.class_probs(logits, emb, cfg)
            labels = probs.argmax(0)
            labels[probs.max(0).values < cfg['prob_thd']] = cfg['bg_idx']
            if cfg['sam_refine']:
                labels = sam_refine(self.predictor, labels, probs, tuple(rgb.shape[:2]),
                                    cfg['coarse_thresh'], cfg['minimal_area'], cfg['sam_mask_coeff'],
                                    cfg['sam_iou_thresh'], cfg['sam_prompt_3d'])
            sample.set_data(dict(pred_sem_seg=PixelData(data=labels[None])))
            if cfg['keep_logits']:
                sample.set_data(dict(seg_logits=PixelData(data=probs)))
        return data_samples

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        emb = self.class_embeddings()
        out = []
        for img, meta in zip(self._valid_images(inputs, batch_img_metas), batch_img_metas):
            ori = tuple(meta.get('ori_shape', img.shape[-2:])[:2])
            out.append(self.trident_logits(img, self.sam_image(img, meta, ori), emb, ori))
        return torch.stack(out)
