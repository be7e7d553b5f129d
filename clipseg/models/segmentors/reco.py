"""ReCo (Shin, Xie, Albanie, NeurIPS 2022): retrieve images of each class from a collection,
co-segment them into a reference embedding, match it densely on a new image.

class name → CLIP text → k nearest images of the index (``retrieval/``) → their patch features
(``encoder``, a timm ViT) weighted by DenseCLIP text attention and context elimination →
reference (``cosegment.py``) → on an image: sigmoid(cos(features, reference)) upsampled, times
DenseCLIP's sigmoid(10 · cos) text attention (NoelShin/reco ``networks/reco.py:304-348``) → argmax.
"""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ...utils.palette import rgb_palette
from ..backbones import build_clip_adapter
from ..clip import create_clip, weights_id
from ..cosegment import SEED_SLICES, context_weights, reference_embedding, text_attention
from ..proxies import build_proxy
from ..text import ClassEmbeddings, TextClassifier, parse_classes

RECO_CONTEXT = ('tree', 'sky', 'building', 'road', 'person')   # configs/reco_*.yaml:18


@MODELS.register_module()
class ReCoSegmentor(BaseSegmentor):
    """Training-free ReCo. Inputs are normalised with the encoder's mean/std (ImageNet), and
    DenseCLIP sees the same tensor, as in the authors' code.

    Args:
        clip: the DenseCLIP side (text attention), a CLIP ResNet (authors: RN50x16, OpenAI),
            run MaskCLIP-style (attnpool's v and c projections on every position).
        encoder: the co-segmentation features (``proxies/``; authors: DeiT-S/16 trained on
            Stylized ImageNet, ``checkpoint`` a local file).
        index: a built image index (``tools/build_index.py``); ``set_index`` changes it.
        retrieval_clip: the CLIP the index was built with (authors: ViT-L/14@336, OpenAI); its
            text tower embeds the class names for retrieval.
        k: images retrieved per class (50). coseg_size: their input side (224).
        context_categories, context_elimination, text_attention: the authors' switches.
        seed_slice: ``'authors'`` (their loop's column slice) or ``'exact'`` (see ``cosegment``).
        templates: for both text towers (``'maskclip'``: the 85 prompts ReCo copies from DenseCLIP).
    """

    def __init__(self,
                 clip: dict = dict(model_name='RN50x16', pretrained='openai', quick_gelu=True),
                 encoder: dict = dict(type='TimmProxy', model_name='deit_small_distilled_patch16_224'),
                 index: Optional[str] = None,
                 retrieval_clip: dict = dict(model_name='ViT-L-14-336', pretrained='openai',
                                             quick_gelu=True),
                 k: int = 50,
                 coseg_size: int = 224,
                 context_categories: Sequence[str] = RECO_CONTEXT,
                 context_elimination: bool = True,
                 text_attention: bool = True,
                 seed_slice: str = 'authors',
                 class_names=None,
                 templates: Union[str, Sequence[str]] = 'maskclip',
                 text_cache_dir: Optional[str] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None):
        encoder_part = build_proxy(encoder)
        if data_preprocessor is None:   # the encoder's statistics (ImageNet for DeiT)
            data_preprocessor = dict(type='mmseg.MixedSizeSegDataPreProcessor',
                                     mean=encoder_part.mean.flatten().tolist(),
                                     std=encoder_part.std.flatten().tolist(),
                                     bgr_to_rgb=True, pad_val=0, seg_pad_val=255)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if seed_slice not in SEED_SLICES:
            raise ValueError(f'seed_slice must be one of {SEED_SLICES}, got {seed_slice!r}')
        self.encoder = encoder_part
        clip = dict(clip)
        model, tokenizer = create_clip(**clip)
        self.dense_clip = build_clip_adapter(model.visual, 'maskclip')
        self.text_encoder = TextClassifier(
            model, tokenizer, templates, model_name=clip.get('model_name', ''),
            weights_id=weights_id(clip.get('model_name', ''), clip.get('pretrained')),
            cache_dir=text_cache_dir)
        self.retrieval_cfg, self.templates, self.text_cache_dir = dict(retrieval_clip), templates, text_cache_dir
        self._retrieval = None            # (ImageEncoder identity, TextClassifier), built on use
        self.k, self.coseg_size = int(k), int(coseg_size)
        self.context_categories = tuple(context_categories)
        self.use_context, self.use_text_attention = context_elimination, text_attention
        self.seed_slice = seed_slice
        self.test_cfg = dict(keep_logits=True, **(test_cfg or {}))
        self.index_dir, self._index, self._refs, self._context = index, None, {}, None
        self.class_names, self.dataset_meta = None, None
        if class_names is not None:
            self.class_names, self.dataset_meta = self._parse_classes(class_names)

    # ----- classes ------------------------------------------------------------------------------
    def _parse_classes(self, class_names):
        parsed = parse_classes(class_names)
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
        self.index()

    # ----- the collection -----------------------------------------------------------------------
    def set_index(self, index_dir: str) -> None:
        """Use another built index; references are recomputed."""
        self.index_dir, self._index, self._refs, self._context = index_dir, None, {}, None

    def retrieval(self):
        """(image encoder, text classifier) of the retrieval CLIP, built on first use."""
        if self._retrieval is None:
            from ...retrieval import ImageEncoder
            cfg = self.retrieval_cfg
            model, tokenizer = create_clip(**cfg)
            name = cfg.get('model_name', '')
            wid = weights_id(name, cfg.get('pretrained')) or f'{name}:random'
            text = TextClassifier(model, tokenizer, self.templates, model_name=name, weights_id=wid,
                                  cache_dir=self.text_cache_dir)
            self._retrieval = (ImageEncoder(model, wid), text)
        return self._retrieval

    def index(self):
        if self._index is None:
            from ...retrieval import ImageIndex
            if not self.index_dir:
                raise ValueError('ReCo needs an image collection: build an index with '
                                 'tools/build_index.py FOLDER --out DIR and pass it (model.index='
                                 'DIR, demo --index DIR)')
            self._index = ImageIndex.load(self.index_dir, self.retrieval()[0].identity)
        return self._index

    def retrieve(self, name: str) -> List[str]:
        """The ``k`` index images closest to ``name`` under the retrieval CLIP's text."""
        query = self.retrieval()[1]([name]).queries[:1].cpu().numpy()
        return self.index().search(query, self.k)[1][0]

    def load_images(self, paths: Sequence[str]) -> Tensor:
        """Resize the short side to ``coseg_size`` (bilinear), centre crop, the encoder's
        normalisation (reco ``datasets/imagenet1k.py:64-65, 116-119``) → (k, 3, s, s)."""
        from PIL import Image
        from torchvision.transforms import functional as TF
        out = []
        for path in paths:
            try:
                with Image.open(path) as img:
                    img = TF.center_crop(TF.resize(img.convert('RGB'), self.coseg_size), self.coseg_size)
            except OSError as err:
                raise ValueError(f'cannot read collection image {path!r}: {err}') from None
            out.append(TF.to_tensor(img) * 255)
        x = torch.stack(out).to(self.encoder.mean.device)
        return (x - self.encoder.mean) / self.encoder.std

    # ----- references ---------------------------------------------------------------------------
    def dense_text_attention(self, images: Tensor, text: Tensor, size) -> Tensor:
        return text_attention(self.dense_clip(images)[-1], text, size)

    def cosegment(self, name: str, context: Dict[str, Tensor]) -> Tensor:
        """(C,) reference of ``name`` from its retrieved images (reco.py:209-255)."""
        images = self.load_images(self.retrieve(name))
        feats = self.encoder(images, prepared=True)
        weights = torch.ones(feats.shape[0], *feats.shape[-2:], device=feats.device)
        if self.use_text_attention:
            text = self.text_encoder([name]).queries[:1].to(feats.device)
            weights = weights * self.dense_text_attention(images, text, feats.shape[-2:])[:, 0]
        if self.use_context and context:
            weights = weights * context_weights(feats, torch.stack(list(context.values())))
        return reference_embedding(feats, weights, self.seed_slice)

    def context_references(self) -> Dict[str, Tensor]:
        """The context categories' references, each eliminating those before it (reco.py:58-73)."""
        if self._context is None:
            context: Dict[str, Tensor] = {}
            if self.use_context:
                for name in self.context_categories:
                    context[name] = self.cosegment(name, dict(context))
            self._context = context
        return self._context

    @torch.no_grad()
    def reference(self, name: str) -> Tensor:
        if name not in self._refs:
            context = self.context_references()
            if name in context:
                self._refs[name] = context[name]
            elif name == 'vegetation' and 'tree' in context:   # Cityscapes / KITTI (reco.py:226-228)
                self._refs[name] = context['tree']
            else:
                self._refs[name] = self.cosegment(name, context)
        return self._refs[name]

    # ----- inference ----------------------------------------------------------------------------
    def scores(self, image: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(3, H, W) normalised → (K, H, W) class scores (reco.py:304-348; synonyms: their max)."""
        names = [n for cls in self.class_names for n in cls.split(';')]
        refs = torch.stack([self.reference(n) for n in names]).to(image.device)
        feats = self.encoder(image[None], prepared=True)
        dt = torch.sigmoid(torch.einsum('bchw,qc->bqhw', F.normalize(feats.float(), dim=1), refs))
        dt = F.interpolate(dt, size=image.shape[-2:], mode='bilinear', align_corners=False)
        if self.use_text_attention:
            dt = dt * self.dense_text_attention(image[None], emb.queries.to(image.device),
                                                image.shape[-2:])
        dt = dt[0]
        return torch.stack([dt[emb.query_class.to(dt.device) == k].amax(dim=0)
                            for k in range(emb.num_classes)])

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples=None) -> List[SegDataSample]:
        emb = self.class_embeddings()
        metas = ([ds.metainfo for ds in data_samples] if data_samples is not None else
                 [dict(ori_shape=tuple(inputs.shape[-2:]), img_shape=tuple(inputs.shape[-2:]))] * len(inputs))
        if data_samples is None:
            data_samples = [SegDataSample() for _ in metas]
        for img, meta, sample in zip(inputs, metas, data_samples):
            h, w = meta.get('img_shape', img.shape[-2:])[:2]
            scores = self.scores(img[:, :h, :w], emb)
            ori = tuple(meta.get('ori_shape', (h, w))[:2])
            if tuple(scores.shape[-2:]) != ori:
                scores = F.interpolate(scores[None], size=ori, mode='bilinear', align_corners=False)[0]
            sample.set_data(dict(pred_sem_seg=PixelData(data=scores.argmax(0)[None])))
            if self.test_cfg['keep_logits']:
                sample.set_data(dict(seg_logits=PixelData(data=scores)))
        return data_samples

    def loss(self, inputs, data_samples):
        raise RuntimeError('ReCo is training-free: it has nothing to train')

    def extract_feat(self, inputs: Tensor):
        return self.encoder(inputs, prepared=True)

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        emb = self.class_embeddings()
        return torch.stack([self.scores(img, emb) for img in inputs])

    def _forward(self, inputs: Tensor, data_samples=None) -> Tensor:
        return self.encode_decode(inputs, [])

