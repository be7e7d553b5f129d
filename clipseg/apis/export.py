"""Export a zero-shot segmentor to ONNX for a fixed class list (text embeddings baked in) or with
the class embeddings as an input, and check it against PyTorch with onnxruntime."""
import os
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ..models.text import ClassEmbeddings


class ExportedSegmentor(nn.Module):
    """``forward(image (1, 3, H, W) normalised[, queries (K, D)]) → (labels (H, W) int64,
    probs (K, H, W))``: the segmentor's own window computation (adapter with its attention
    variant, then the head: e.g. CLIP-DINOiser's pooling and background) on the whole image,
    bilinear upsampling as the segmentor does it, the head's class probabilities and the argmax. Sliding windows,
    PAMR and the probability/area thresholds are not part of the graph."""

    def __init__(self, segmentor: nn.Module, embeddings_input: bool = False):
        super().__init__()
        self.seg = segmentor.eval()
        emb = segmentor.class_embeddings()
        self.embeddings_input = embeddings_input
        if embeddings_input and emb.queries.shape[0] != emb.num_classes:
            raise ValueError('with class embeddings as an input, give one name per class (no ";" synonyms)')
        self.register_buffer('queries', emb.queries.detach().clone())
        self.register_buffer('query_class', emb.query_class.clone())
        self.names = list(emb.names)

    def forward(self, image: Tensor, queries: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        queries = queries if self.embeddings_input else self.queries
        emb = ClassEmbeddings(queries, self.query_class, self.names)
        scores = self.seg.window_logits(image, emb)[0]                      # (Q, H, W)
        scores = self.seg.decode_head.class_probs(scores, emb, self.seg.test_cfg)  # (K, H, W)
        return scores.argmax(dim=0), scores


def export_onnx(segmentor: nn.Module, path: str, size: Tuple[int, int],
                embeddings_input: bool = False, dynamic: bool = True):
    """Write ``path`` (ONNX, opset 18) for (1, 3, H, W) inputs. With ``dynamic``, H and W are
    symbolic where the ops allow; where they do not (e.g. DINO-style positional resizing by a
    scale factor), the graph is fixed at ``size`` and the reason is returned.
    → ``(wrapper, dynamic_reason)``: ``None`` when the graph has dynamic H, W."""
    from ..utils import write_atomically
    attention = getattr(getattr(segmentor, 'backbone', None), 'attention', None)
    if getattr(attention, 'tower', False):
        raise ValueError(f'{type(attention).__name__} cannot be exported to ONNX: its steps depend '
                         'on the data (outlier sets, first-pass labels, distractor tokens), which '
                         'torch.export cannot trace; MaskCLIP, SCLIP, ClearCLIP, NACLIP and '
                         'CLIP-DINOiser configs export')
    wrapper = ExportedSegmentor(segmentor, embeddings_input).eval()
    image = torch.randn(1, 3, *size)
    args = (image, wrapper.queries.clone()) if embeddings_input else (image,)
    names = ['image', 'queries'] if embeddings_input else ['image']
    program, reason = None, 'static size requested'
    with torch.no_grad():
        if dynamic:
            h = torch.export.Dim('height', min=32, max=4096)
            w = torch.export.Dim('width', min=32, max=4096)
            shapes = ({2: h, 3: w},) + (({0: torch.export.Dim('classes', min=2, max=4096)},)
                                        if embeddings_input else ())
            try:
                program, reason = torch.export.export(wrapper, args, dynamic_shapes=shapes), None
            except Exception as err:  # noqa: BLE001 - torch.export reports shape guards many ways
                reason = fixed_size_reason(err)
        if program is None:
            program = torch.export.export(wrapper, args)

        def write(tmp):
            torch.onnx.export(program, args, tmp, input_names=names,
                              output_names=['labels', 'probs'], opset_version=18,
                              external_data=False)
            describe(tmp, segmentor, wrapper, size, reason)
        write_atomically(path, write)
    return wrapper, reason


def describe(path: str, segmentor: nn.Module, wrapper: ExportedSegmentor,
             size: Tuple[int, int], reason: Optional[str]) -> None:
    """Write into the ONNX file what a user needs to run it (``metadata_props``, JSON values):
    ``classes`` (index order of ``labels`` / ``probs``), ``mean``/``std`` (RGB, 0-255; the image
    input is normalised with them), ``input_size`` and whether H, W are ``dynamic``, the
    ``config`` it came from (when known) and the producer."""
    import json
    import onnx
    from .. import __version__
    model = onnx.load(path)
    pre = getattr(segmentor, 'data_preprocessor', None)
    cfg = getattr(segmentor, 'cfg', None)
    props = dict(
        classes=wrapper.names,
        mean=None if pre is None else [round(float(v), 6) for v in pre.mean.flatten()],
        std=None if pre is None else [round(float(v), 6) for v in pre.std.flatten()],
        color_order='RGB', input_size=list(size), dynamic=reason is None,
        embeddings_input=wrapper.embeddings_input,
        config=None if getattr(cfg, 'filename', None) is None else
        os.path.splitext(os.path.basename(cfg.filename))[0],
        producer=f'clipseg {__version__}')
    onnx.helper.set_model_props(model, {k: json.dumps(v) for k, v in props.items()})
    onnx.save(model, path)


def fixed_size_reason(err: Exception) -> str:
    """torch.export's refusal to keep H, W symbolic → one sentence for the user (torch's own
    text, e.g. "Constraints violated (height, width)! For more information, run with TORCH_LOGS=...",
    names its internals, not the cause)."""
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if 'Constraints violated' in first or 'specialized' in first or 'guard' in first.lower():
        return ('the model fixes the image size in its computation (e.g. DINO-style positional '
                'resizing by a scale factor, or correlation maps over all patches)')
    first = first.split(' For more information')[0]
    return 'torch.export could not keep the size symbolic: ' + first


def check_onnx(path: str, wrapper: ExportedSegmentor, images: Sequence[np.ndarray]) -> Dict:
    """Run ``path`` with onnxruntime (CPU) on normalised (1, 3, H, W) float32 images and compare
    the label maps with PyTorch's; pixels may differ only where PyTorch's top-2 classes tie
    (probability margin < 1e-4). Returns the agreement per image."""
    import onnxruntime as ort
    session = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    report = []
    for img in images:
        feeds = {'image': img.astype(np.float32)}
        if wrapper.embeddings_input:
            feeds['queries'] = wrapper.queries.numpy()
        labels, _ = session.run(None, feeds)
        with torch.no_grad():
            extra = (wrapper.queries,) if wrapper.embeddings_input else ()
            want, probs = wrapper(torch.from_numpy(img), *extra)
        top2 = probs.topk(min(2, probs.shape[0]), dim=0).values
        differ = torch.from_numpy(labels) != want
        ties = bool(((top2[0] - top2[-1])[differ] < 1e-4).all())
        report.append(dict(shape=tuple(img.shape[-2:]), agreement=1.0 - float(differ.float().mean()),
                           only_ties=ties))
    return dict(images=report, ok=all(r['only_ties'] for r in report))
