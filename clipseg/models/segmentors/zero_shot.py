"""Training-free open-vocabulary segmentor: adapter → head per window → stitching → PAMR → head."""
import contextlib
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..backbones import build_clip_adapter
from ..clip import create_clip, pixel_mean_std, weights_id
from ..building import mmseg_scoped
from ..masks import build_mask_source, region_vote, resize_ids
from ..pamr import PAMR
from ...utils.palette import rgb_palette
from ..text import ClassEmbeddings, TextClassifier, parse_classes
from .fast_backbone import FastBackbone, check_options
from .stitching import Stitch, Window, stitch, stitched_rows
from .windows import slide_windows


PER_REQUEST = ('prob_thd', 'bg_idx')   # test settings a data sample's metainfo may override

DEFAULT_TEST_CFG = dict(
    mode='slide',          # 'slide' or 'whole'
    crop_size=(224, 224),  # slide window (SCLIP: 224/112 at short side 336)
    stride=(112, 112),
    logit_scale=40.0,      # temperature of the softmax over queries (SCLIP default)
    prob_thd=0.0,          # below this class probability a pixel becomes class `bg_idx`
    area_thd=None,         # SCLIP: classes with area <= area_thd × all non-bg_idx area are dropped
    renormalize=False,     # NACLIP: divide class probabilities by their sum after the synonym max
    bg_idx=0,
    pamr_steps=0,          # PAMR refinement iterations (0 = off)
    pamr_dilations=(8, 16),
    max_windows=16,        # windows per backbone forward: bounds memory in slide mode
    keep_logits=True,      # store per-class probabilities in `seg_logits`
    max_logits_bytes=2 ** 30,  # ...unless they would take more (None: always); `class_scores`
                           # (K,) mean probabilities are always stored, computed band by band
    band_bytes=2 ** 28,    # memory per band of the full-resolution output
    precision='fp32',      # backbone under autocast: 'fp32' (off), 'fp16', 'bf16' or 'fp16_cuda'
    channels_last=False,   # backbone weights and crops in channels-last layout
    compile=False,         # torch.compile the backbone: True or a dict of torch.compile arguments
    map_correction=False,  # CorrCLIP: each region of the mask source takes its majority label
)


@MODELS.register_module()
class ZeroShotSegmentor(BaseSegmentor):
    """Segments images into free-text classes with a frozen CLIP (MaskCLIP family).

    Slots: ``backbone`` (the CLIP adapter with its attention variant) → ``decode_head`` per window
    ((N, Q, h, w) scores on the patch grid, ``heads/zero_shot_head.py``) → stitching (bilinear
    upsampling to each window, averaging of windows, resizing to the original shape, evaluated as
    matrix products band by band, ``stitching.py``) → optional PAMR → the head's class
    probabilities, synonyms, thresholds and argmax. ``test_cfg`` holds the test settings; a data
    sample's metainfo may carry ``prob_thd``/``bg_idx`` for that image alone.

    Args:
        clip: ``create_clip`` arguments: ``model_name``, ``pretrained`` (tag, local file or None),
            optionally ``model_cfg`` for an explicit architecture.
        attention: last-block attention variant (``'maskclip'``, ``'sclip'``, ...).
        proxy: a vision foundation model for guided variants (``'proxyclip'``), e.g.
            ``dict(type='TimmProxy', model_name='vit_base_patch8_224.dino')`` (``proxies/``).
        mask_source: class-agnostic regions per image for variants that use them (``'corrclip'``)
            and for ``test_cfg.map_correction`` (``masks/``: FolderMasks, SAMMasks, SAM2Masks,
            DINOClusterMasks).
        decode_head: the head config (default ``ZeroShotHead``: cosine similarity, MaskCLIP).
        class_names: default class list (names file, ``'a,b'`` or list); ``set_classes`` changes it.
        allow_shared_names: accept a name or synonym in two classes (authors' benchmark lists).
        templates: prompt template set or list.
        text_cache_dir: optional folder for the on-disk text-embedding cache.
        test_cfg: inference settings, see ``DEFAULT_TEST_CFG``.
    """

    def __init__(self,
                 clip: dict = dict(model_name='ViT-B-16', pretrained='openai'),
                 attention: Union[str, dict] = 'maskclip',
                 proxy: Optional[dict] = None,
                 mask_source: Optional[dict] = None,
                 decode_head: Optional[dict] = None,
                 class_names=None,
                 allow_shared_names: bool = False,
                 templates: Union[str, Sequence[str]] = 'openai_imagenet',
                 text_cache_dir: Optional[str] = None,
                 backbone_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        clip = dict(clip)
        model, tokenizer = create_clip(**clip)
        if data_preprocessor is None:   # the weights' own mean/std (open_clip's preprocess_cfg)
            mean, std = pixel_mean_std(model)
            data_preprocessor = dict(type='mmseg.MixedSizeSegDataPreProcessor', mean=mean, std=std,
                                     bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        extra = {} if proxy is None else dict(proxy=proxy)
        self.backbone = build_clip_adapter(model.visual, attention, **extra, **(backbone_cfg or {}))
        if getattr(self.backbone, 'proxy', None) is not None:   # it sees the crops CLIP sees
            self.backbone.proxy.set_input_stats(self.data_preprocessor.mean, self.data_preprocessor.std)
            attention = self.backbone.attention
            if hasattr(attention, 'in_mean'):                      # CASS makes DINO's input itself
                attention.in_mean = self.data_preprocessor.mean.detach().clone().view(1, 3, 1, 1)
                attention.in_std = self.data_preprocessor.std.detach().clone().view(1, 3, 1, 1)
        self.mask_source = build_mask_source(mask_source)
        head = mmseg_scoped(dict(type='ZeroShotHead') if decode_head is None else dict(decode_head))
        head.setdefault('in_channels', getattr(self.backbone, 'width', None))
        self.decode_head = MODELS.build(head)
        self.text_encoder = TextClassifier(
            model, tokenizer, templates, model_name=clip.get('model_name', ''),
            weights_id=weights_id(clip.get('model_name', ''), clip.get('pretrained')),
            cache_dir=text_cache_dir, allow_shared_names=allow_shared_names)
        self.test_cfg = {**DEFAULT_TEST_CFG, **(test_cfg or {})}
        if self.test_cfg['mode'] not in ('slide', 'whole'):
            raise ValueError(f"test_cfg.mode must be 'slide' or 'whole', got {self.test_cfg['mode']!r}")
        check_options(self.test_cfg['precision'], self.test_cfg['channels_last'],
                      self.test_cfg['compile'])
        self._check_regions()
        self.fast_backbone = FastBackbone()
        steps = self.test_cfg['pamr_steps']
        self.pamr = PAMR(steps, self.test_cfg['pamr_dilations']) if steps else None
        self.class_names, self.dataset_meta = None, None
        if class_names is not None:
            self.class_names, self.dataset_meta = self._parse_classes(class_names)
        self.align_corners = False

    def _check_regions(self) -> None:
        """A mask source exactly when something uses it, and a proxy for sources that need one."""
        wants = getattr(getattr(self.backbone, 'attention', None), 'needs_regions', False)
        if wants and self.mask_source is None:
            raise ValueError('attention \'corrclip\' restricts correlations to region masks: set '
                             'model.mask_source, e.g. dict(type=\'FolderMasks\', root=\'data/'
                             'region_masks/voc\'), dict(type=\'SAM2Masks\', checkpoint=...) or '
                             'dict(type=\'DINOClusterMasks\')')
        if self.mask_source is not None and not (wants or self.test_cfg['map_correction']):
            raise ValueError('a mask source was given but nothing uses it: choose a variant that '
                             'does (\'corrclip\') or set test_cfg.map_correction=True')
        if getattr(self.mask_source, 'uses_proxy', False) and getattr(self.backbone, 'proxy', None) is None:
            raise ValueError(f'{type(self.mask_source).__name__} clusters the proxy\'s features: '
                             'set model.proxy')

    # ----- classes -----------------------------------------------------------------------------
    def _parse_classes(self, class_names):
        """Parse once (a names file is read here, once) → the ``'name;synonym'`` strings and the
        ``dataset_meta`` (names and palette) that the visualiser, the inferencer, ``detect`` and
        the web page read."""
        parsed = parse_classes(class_names, self.text_encoder.allow_shared_names)
        meta = dict(classes=[names[0] for names in parsed], palette=rgb_palette(len(parsed)))
        return [';'.join(names) for names in parsed], meta

    def set_classes(self, class_names) -> None:
        """Use these classes from now on (names file, ``'a,b'`` or list; ``;`` joins synonyms)."""
        names, meta = self._parse_classes(class_names)
        self.text_encoder(names)  # validate (and cache) now, not at the first image
        self.class_names, self.dataset_meta = names, meta

    def class_embeddings(self) -> ClassEmbeddings:
        if self.class_names is None:
            raise ValueError('no classes set: pass class_names in the config or call set_classes()')
        return self.text_encoder(self.class_names)

    def check_parts_ready(self) -> None:
        """Nothing to check: a training-free model has no trained parts (see ``TrainedParts``)."""

    # ----- one window --------------------------------------------------------------------------
    @property
    def pad_mode(self) -> str:
        """How the backbone fits windows to the patch grid (``backbones/clip_tower.PAD_MODES``)."""
        return getattr(self.backbone, 'pad', 'corner')

    @property
    def pad_unit(self) -> Tuple[int, int]:
        """The size windows are padded to a multiple of (the patch size, or ProxyCLIP's 56)."""
        return getattr(self.backbone, 'pad_unit', self.backbone.patch_size)

    def extract_feat(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        return self.backbone(inputs)

    def encode_crops(self, crops: Tensor) -> Tuple[Tensor, ...]:
        """Backbone outputs (float32) for (N, 3, h, w) crops, run with test_cfg's ``precision``,
        ``channels_last`` and ``compile``."""
        cfg = self.test_cfg
        check_options(cfg['precision'], cfg['channels_last'], cfg['compile'])
        return self.fast_backbone(self.backbone, crops, cfg['precision'], cfg['channels_last'],
                                  cfg['compile'])

    def grid_logits(self, crops: Tensor, emb: ClassEmbeddings,
                    image_globals: Optional[Tensor] = None,
                    regions: Optional[Tensor] = None) -> Tensor:
        """(N, 3, hc, wc) → (N, Q, ⌈hc/p⌉, ⌈wc/p⌉) the head's scores on the patch grid (logits or
        probabilities, as ``decode_head.returns`` says). ``image_globals`` (N, D): the global
        embedding of each crop's whole image, for heads that ask for it (RF-CLIP)."""
        self.check_parts_ready()
        extra = {} if image_globals is None else dict(image_globals=image_globals)
        attention = getattr(self.backbone, 'attention', None)
        with (attention.text_context(crops, emb.queries, self.test_cfg['logit_scale'])
              if getattr(attention, 'needs_text', False) else contextlib.nullcontext()), \
             (attention.region_context(regions) if getattr(attention, 'needs_regions', False)
              else contextlib.nullcontext()):
            outputs = self.encode_crops(crops)      # ResCLIP's SFR scores a first pass
        return self.decode_head(outputs, emb, self.test_cfg, **extra)

    def image_globals(self, images: List[Tensor]) -> Optional[List[Tensor]]:
        """Each whole image's global embedding (1, D), when the head wants it in slide mode
        (``decode_head.wants_image_global``: RF-CLIP's image-level similarity); else None."""
        if self.test_cfg['mode'] != 'slide' or not getattr(self.decode_head, 'wants_image_global', False):
            return None
        return [self.encode_crops(img[None])[-1][0] for img in images]

    def window_logits(self, crops: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(N, 3, hc, wc) → (N, Q, hc, wc): grid logits upsampled bilinearly to the window (the
        reference formulation; inference computes the same through ``stitch``)."""
        logits = self.grid_logits(crops, emb)   # plain interpolation: traceable for ONNX export
        (ph, pw), (hc, wc), (gh, gw) = self.pad_unit, crops.shape[-2:], logits.shape[-2:]
        if self.pad_mode in ('drop', 'corner_stretch'):   # stretch the grid over the window
            return F.interpolate(logits, size=(hc, wc), mode='bilinear', align_corners=False)
        if self.pad_mode == 'even_stretch':               # over the evenly padded window
            size = (hc + (-hc) % ph, wc + (-wc) % pw)
        else:
            size = (gh * ph, gw * pw)
        t = (size[0] - hc) // 2 if self.pad_mode.startswith('even') else 0
        left = (size[1] - wc) // 2 if self.pad_mode.startswith('even') else 0
        up = F.interpolate(logits, size=size, mode='bilinear', align_corners=False)
        return up[..., t:t + hc, left:left + wc]

    # ----- one batch ---------------------------------------------------------------------------
    def run_windows(self, images: List[Tensor], emb: ClassEmbeddings,
                    regions: Optional[List[Tensor]] = None) -> List[List[Window]]:
        """Each (3, H_i, W_i) image → its windows with their grid logits. Windows of all images go
        through the backbone together, ``max_windows`` at a time, grouped by crop size.
        ``regions``: each image's (H_i, W_i) region ids, cropped with the windows (CorrCLIP)."""
        cfg = self.test_cfg
        jobs = []  # (image index, (y1, x1, y2, x2))
        for i, img in enumerate(images):
            H, W = img.shape[-2:]
            boxes = [(0, 0, H, W)] if cfg['mode'] == 'whole' else slide_windows(
                H, W, tuple(cfg['crop_size']), tuple(cfg['stride']))
            jobs += [(i, box) for box in boxes]
        by_size: Dict[Tuple[int, int], list] = {}
        for job in jobs:
            y1, x1, y2, x2 = job[1]
            by_size.setdefault((y2 - y1, x2 - x1), []).append(job)
        out: List[List[Window]] = [[] for _ in images]
        globals_ = self.image_globals(images)
        for group in by_size.values():
            for start in range(0, len(group), cfg['max_windows']):
                chunk = group[start:start + cfg['max_windows']]
                crops = torch.stack([images[i][:, y1:y2, x1:x2] for i, (y1, x1, y2, x2) in chunk])
                extra = {} if globals_ is None else dict(
                    image_globals=torch.cat([globals_[i] for i, _ in chunk]))
                if regions is not None:
                    extra['regions'] = torch.stack([regions[i][y1:y2, x1:x2]
                                                    for i, (y1, x1, y2, x2) in chunk])
                for (i, box), logit in zip(chunk, self.grid_logits(crops, emb, **extra)):
                    out[i].append(Window(box, logit))
        return out

    def stitch(self, windows: List[Window], image_hw: Tuple[int, int],
               out_shape: Tuple[int, int], valid_hw: Optional[Tuple[int, int]] = None) -> Stitch:
        """``stitching.stitch`` with this backbone's patch size and pad mode."""
        return stitch(windows, image_hw, out_shape, self.pad_unit, self.pad_mode,
                      valid_hw)

    def region_maps(self, images: List[Tensor], metas: List[dict]) -> Optional[List[Tensor]]:
        """Each (3, h, w) normalised image → the mask source's (h0, w0) region ids (None without
        a source). The source sees the image as RGB uint8 and the sample's metainfo."""
        if self.mask_source is None:
            return None
        mean, std = self.data_preprocessor.mean, self.data_preprocessor.std
        proxy = getattr(self.backbone, 'proxy', None)
        out = []
        for img, meta in zip(images, metas):
            rgb = (img.float() * std + mean).clamp(0, 255).round().byte().permute(1, 2, 0)
            ids = torch.as_tensor(self.mask_source(rgb.cpu().numpy(), meta, proxy=proxy))
            if ids.ndim != 2 or ids.is_floating_point():
                raise ValueError(f'{type(self.mask_source).__name__} gave a {tuple(ids.shape)} '
                                 f'{ids.dtype} map; expected (H, W) integer region ids')
            out.append(ids.long().to(img.device))
        return out

    @staticmethod
    def regions_at(regions: Tensor, size: Tuple[int, int], padded: Tuple[int, int]) -> Tensor:
        """(h0, w0) ids → nearest-resized to ``size``, padded bottom/right to ``padded`` with a
        region of its own."""
        ids = resize_ids(regions, size)
        return F.pad(ids, (0, padded[1] - size[1], 0, padded[0] - size[0]),
                     value=int(ids.max()) + 1)

    def image_logits(self, images: List[Tensor], emb: ClassEmbeddings,
                     regions: Optional[List[Tensor]] = None) -> List[Tensor]:
        """Each (3, H_i, W_i) image → (Q, H_i, W_i) window-averaged logits at its own size."""
        if regions is not None:
            regions = [self.regions_at(r, tuple(img.shape[-2:]), tuple(img.shape[-2:]))
                       for r, img in zip(regions, images)]
        out = []
        for img, windows in zip(images, self.run_windows(images, emb, regions)):
            H, W = img.shape[-2:]
            out.append(stitched_rows(self.stitch(windows, (H, W), (H, W)), 0, H))
        return out

    def class_probs(self, logits: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(Q, ...) query scores → (K, ...) class probabilities (the head's)."""
        return self.decode_head.class_probs(logits, emb, self.test_cfg)

    def finish_image(self, windows: List[Window], image: Tensor, out_shape: Tuple[int, int],
                     emb: ClassEmbeddings, valid_hw: Optional[Tuple[int, int]] = None,
                     overrides: Optional[dict] = None, regions: Optional[Tensor] = None
                     ) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
        """An image's windows → (H, W) labels, optional (K, H, W) probabilities and optional (K,)
        mean probabilities at ``out_shape`` (``decode_head.decide``; ``overrides``: this image's
        ``prob_thd``/``bg_idx``). The stitched scores are read band by band, unless PAMR needs
        them all."""
        H, W = out_shape
        plan = self.stitch(windows, tuple(image.shape[-2:]), out_shape, valid_hw)
        if self.pamr is not None:
            full = stitched_rows(plan, 0, H)
            h, w = valid_hw or image.shape[-2:]
            img = F.interpolate(image[None, :, :h, :w].float(), size=out_shape, mode='bilinear',
                                align_corners=False)
            full = self.pamr(img, full[None])[0]
            rows = lambda r0, r1: full[:, r0:r1]  # noqa: E731
        else:
            rows = lambda r0, r1: stitched_rows(plan, r0, r1)  # noqa: E731
        cfg = {**self.test_cfg, **(overrides or {})}
        labels, probs, scores = self.decode_head.decide(rows, out_shape, emb, cfg, image.device)
        if cfg['map_correction'] and regions is not None:   # CorrCLIP: a label per region
            labels = region_vote(labels, self.regions_at(regions, out_shape, out_shape))
        return labels, probs, scores

    # ----- mmseg interface ---------------------------------------------------------------------
    def _valid_images(self, inputs: Tensor, metas: List[dict]) -> List[Tensor]:
        images = []
        for img, meta in zip(inputs, metas):
            h, w = meta.get('img_shape', img.shape[-2:])[:2]
            images.append(img[:, :h, :w])
        return images

    def pad_to_minimum(self, image: Tensor) -> Tensor:
        """(3, h, w) → padded bottom/right with zeros (the mean colour) to at least one patch per
        side, so that thin or tiny images have a patch grid; results cover only the (h, w) part."""
        ph, pw = self.pad_unit
        h, w = image.shape[-2:]
        if h >= ph and w >= pw:
            return image
        return F.pad(image, (0, max(pw - w, 0), 0, max(ph - h, 0)))

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
        valid = self._valid_images(inputs, metas)
        images = [self.pad_to_minimum(img) for img in valid]
        raw = self.region_maps(valid, metas)
        regions = None if raw is None else [
            self.regions_at(r, tuple(part.shape[-2:]), tuple(img.shape[-2:]))
            for r, part, img in zip(raw, valid, images)]
        all_windows = self.run_windows(images, emb, regions)
        if data_samples is None:
            data_samples = [SegDataSample() for _ in images]
        for i, (img, part, windows, meta, sample) in enumerate(
                zip(images, valid, all_windows, metas, data_samples)):
            ori = tuple(meta.get('ori_shape', part.shape[-2:])[:2])
            overrides = {k: meta[k] for k in PER_REQUEST if k in meta}
            labels, probs, scores = self.finish_image(windows, img, ori, emb,
                                                      tuple(part.shape[-2:]), overrides,
                                                      None if raw is None else raw[i])
            sample.set_data(dict(pred_sem_seg=PixelData(data=labels[None])))
            if probs is not None:
                sample.set_data(dict(seg_logits=PixelData(data=probs)))
            if scores is not None:
                sample.class_scores = scores
        return data_samples

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """(B, 3, H, W) → (B, Q, H, W) query logits at input resolution (same-size images)."""
        emb = self.class_embeddings()
        images = self._valid_images(inputs, batch_img_metas)
        return torch.stack(self.image_logits(images, emb, self.region_maps(images, batch_img_metas)))

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.encode_decode(inputs, self._metas(inputs, data_samples))

    def loss(self, inputs: Tensor, data_samples) -> dict:
        raise RuntimeError(f'{type(self).__name__} is training-free (zero-shot) and has nothing to '
                           'train; use a trainable model such as CLIP-DINOiser or DenseCLIP configs')
