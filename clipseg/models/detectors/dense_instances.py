"""Training-free instances from dense class maps: connected regions of each class become masks,
boxes and scores (any zero-shot segmentor: MaskCLIP, SCLIP, ClearCLIP, NACLIP, CLIP-DINOiser)."""
from typing import Optional

from torch import Tensor, nn

from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS as DET_MODELS
from mmseg.registry import MODELS as SEG_MODELS
from mmseg.structures import SegDataSample
from ..dense_regions import instances_from_maps, segmentor_config


@DET_MODELS.register_module()
class DenseInstanceDetector(BaseDetector):
    """An mmdet detector around a zero-shot segmentor: per image, the segmentor's class
    probabilities (K, H, W) at the original size → ``pred_instances`` (bboxes, labels, scores,
    masks) by ``instances_from_maps``. Training-free: ``loss`` refuses.

    Args:
        segmentor: the segmentor config (``type='mmseg.ZeroShotSegmentor'`` or
            ``'mmseg.CLIPDINOiser'``), with its classes and test settings; or
            ``dict(config=NAME, ...)``: the model of that segmentation config (``segmentor_config``).
        background: number of leading classes that are background (no instances); output
            labels count from the first object class (COCO's 80 after SCLIP's 1 background).
        min_area, prob_thr, nms_iou, max_per_img: see ``instances_from_maps``.
    """

    def __init__(self, segmentor: dict, background: int = 0, min_area: int = 64,
                 prob_thr: float = 0.0, nms_iou: float = 0.5, max_per_img: int = 100,
                 data_preprocessor: Optional[dict] = None, init_cfg=None):
        seg = SEG_MODELS.build(segmentor_config(segmentor))
        if data_preprocessor is None:     # the segmentor's (the weights') normalisation
            data_preprocessor = dict(type='mmdet.DetDataPreprocessor', bgr_to_rgb=True,
                                     mean=seg.data_preprocessor.mean.flatten().tolist(),
                                     std=seg.data_preprocessor.std.flatten().tolist())
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.segmentor = seg
        seg.test_cfg.update(keep_logits=True, max_logits_bytes=None)  # full maps: scores per instance
        self.background = background
        self._update_meta()
        self.min_area, self.prob_thr = min_area, prob_thr
        self.nms_iou, self.max_per_img = nms_iou, max_per_img

    def set_classes(self, classes) -> None:
        """Free-text classes (``'a,b'``, list or names file), as for the segmentor. A
        ``'background'`` class (yours if you name one, else the word) goes in front: it takes the
        pixels no class explains and gives no instances; labels index the other classes."""
        from ..text import background_first, parse_classes
        self.segmentor.set_classes([';'.join(c) for c in background_first(parse_classes(classes))])
        self.background = 1
        self._update_meta()

    def _update_meta(self) -> None:
        """``dataset_meta``: the classes instances are labelled with (no background), palette
        (RGB tuples, mmdet's convention: its visualiser reads a list as several colours)."""
        meta = self.segmentor.dataset_meta
        self.dataset_meta = None if meta is None else dict(
            classes=meta['classes'][self.background:],
            palette=[tuple(c) for c in meta['palette'][self.background:]])

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """A checkpoint of the wrapped segmentor (e.g. CLIP-DINOiser heads, keys without
        ``segmentor.``) is loaded into it; keys that fit neither are refused, naming them."""
        inner = prefix + 'segmentor.'
        given = [k for k in list(state_dict) if k.startswith(prefix)]
        if given and not any(k.startswith(inner) for k in given):
            for k in given:
                state_dict[inner + k[len(prefix):]] = state_dict.pop(k)
            given = [inner + k[len(prefix):] for k in given]
        own = set(nn.Module.state_dict(self, prefix=prefix))
        own |= {inner + k for k in self.segmentor.state_dict()}   # its saved layout (heads only)
        unexpected = sorted(k for k in given if k not in own)
        if unexpected:
            seg = type(self.segmentor).__name__
            raise ValueError(f'checkpoint does not fit DenseInstanceDetector over {seg}: '
                             f'{len(unexpected)} of its {len(given)} keys fit no part of the model '
                             f'(e.g. {unexpected[:3]}). Is it a checkpoint of another model?')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def class_names(self):
        return self.dataset_meta['classes']

    def predict(self, batch_inputs: Tensor, batch_data_samples, rescale: bool = True):
        seg_samples = [SegDataSample(metainfo=dict(
            img_shape=s.img_shape, ori_shape=s.ori_shape, pad_shape=s.get('pad_shape', s.img_shape)))
            for s in batch_data_samples]
        for det, seg in zip(batch_data_samples, self.segmentor.predict(batch_inputs, seg_samples)):
            found = instances_from_maps(seg.seg_logits.data, seg.pred_sem_seg.data[0],
                                        range(self.background), self.min_area, self.prob_thr,
                                        self.nms_iou, self.max_per_img)
            found.labels = found.labels - self.background
            det.pred_instances = found
        return batch_data_samples

    def extract_feat(self, batch_inputs: Tensor):
        return self.segmentor.extract_feat(batch_inputs)

    def _forward(self, batch_inputs: Tensor, batch_data_samples=None):
        return self.segmentor.encode_decode(batch_inputs, [s.metainfo for s in batch_data_samples])

    def loss(self, batch_inputs, batch_data_samples):
        raise RuntimeError('DenseInstanceDetector is training-free (instances from a zero-shot '
                           "segmentor's maps); train a DenseCLIP detector instead")
