"""Convert the authors' released checkpoints into clipseg's key layout.

``convert_checkpoint(src, dst, 'dinoiser')`` reads ``src`` with the project's ``safe_load`` (a
file that needs full pickle is refused, naming its types, unless ``unsafe_load=True``), takes the
state dict out of the authors' wrapping, renames keys by the format's rules, checks every key and shape against the
clipseg model its config builds, and writes ``{'state_dict': ..., 'meta': ...}`` atomically: the
file loads with ``--checkpoint`` / ``init_model(checkpoint=...)``. Keys it could not place are
reported; a trained part left without weights, or a shape that does not fit, is an error and no
file is written.
"""
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch


@dataclass
class Format:
    """How one released checkpoint family maps onto a clipseg model."""
    description: str
    config: str                                   # the clipseg config it pairs with
    unwrap: Tuple[str, ...] = ('state_dict',)     # outer keys that may hold the state dict
    rules: Sequence[Tuple[str, Union[str, Callable]]] = ()  # (regex, replacement), first match wins
    drop: Sequence[str] = ()                      # regexes of source keys with no counterpart
    nested: Optional[str] = None                  # the state dict is {nested: {...}} (FOUND)
    optional: Sequence[str] = ()                  # regexes of model keys a release never holds
    note: str = ''


# raoyongming/DenseCLIP (mmseg 0.x / mmdet 2.x, saved by mmcv 1.x as {'meta', 'state_dict',
# 'optimizer'}): the text encoder, learnable contexts, gamma and context decoder sit at the top of
# the model (segmentation/denseclip/denseclip.py:58-114, detection/denseclip/denseclip.py:50-74,
# 306-343), the decoder's layers are `decoder.N` (models.py:710-738), the ViT's multi-scale
# branches `fpn1-4` (models.py:426-488); the text encoder's positional-embedding prefix is a
# buffer we rebuild from CLIP and never save. The ViT adds the class embedding twice: run its
# converted weights with model.backbone.cls_embed_twice=True.
_DENSECLIP_COMMON = [
    (r'^text_encoder\.positional_embedding$', None),
    (r'^context_decoder\.decoder\.', '{head}context_decoder.layers.'),
    (r'^context_decoder\.', '{head}context_decoder.'),
    (r'^text_encoder\.', '{head}prompt.'),
    (r'^contexts$', '{head}prompt.contexts'),
    (r'^gamma$', '{head}context_decoder.gamma'),
]


def _denseclip_rules(head: str, extra: Sequence) -> list:
    rules = [(p, r if r is None else r.format(head=head)) for p, r in _DENSECLIP_COMMON]
    return rules + list(extra)


FORMATS: Dict[str, Format] = {
    'dinoiser': Format(
        'CLIP-DINOiser heads: wysoczanska/clip_dinoiser checkpoints/last.pt '
        '({"epoch", "model_state_dict": obj_proj.*, bkg_decoder.*}, train.py:31-37, 89-92)',
        config='dinoiser_vit-b16_laion2b_slide448', unwrap=('model_state_dict', 'state_dict')),
    'found': Format(
        'FOUND background decoder: valeoai/FOUND data/weights/decoder_weights.pt '
        '({"decoder": weight, bias} of a 384→1 conv, model.py:168-174)',
        config='found_vit-s8_dino_train224_unlabelled', unwrap=(), nested='decoder',
        rules=[(r'^', 'decoder.')], optional=(r'^steps$',),
        note='FOUNDDecoder and the CLIP-DINOiser FOUND teacher (teacher head=FILE, which also '
             'reads the original file as it is); never a CLIP-DINOiser bkg_decoder (768 inputs)'),
    'denseclip-seg': Format(
        'DenseCLIP segmentation (ADE20K, mmseg 0.x): raoyongming/DenseCLIP README, '
        'denseclip_fpn_{res50,res101}_512x512_80k / denseclip_fpn_vit-b_640x640_80k',
        config='denseclip_fpn_rn50_openai_512x512_80k_ade20k150',
        rules=_denseclip_rules('decode_head.', [
            (r'^neck\.', 'decode_head.neck.'),
            (r'^backbone\.fpn([1-4])\.', lambda m: f'backbone.multiscale.{int(m.group(1)) - 1}.'),
            (r'^backbone\.', 'backbone.visual.')]),
        note='RN101: --config denseclip_fpn_rn101_openai_512x512_80k_ade20k150; ViT-B: --config '
             'denseclip_fpn_vit-b16_openai_640x640_80k_ade20k150 and cls_embed_twice=True'),
    'denseclip-det': Format(
        'DenseCLIP detection (COCO, mmdet 2.x): raoyongming/DenseCLIP README, '
        'retinanet_denseclip_r50_fpn_1x_coco / mask_rcnn_denseclip_r50_fpn_1x_coco',
        config='denseclip_retinanet_rn50_openai_1x_coco',
        rules=_denseclip_rules('', [(r'^backbone\.', 'backbone.visual.')]),
        note='Mask R-CNN: --config denseclip_mask-rcnn_rn50_openai_1x_coco'),
}


@dataclass
class Report:
    """What a conversion did: placed keys, the source keys it dropped or could not place, and the
    model keys left without weights."""
    fmt: str
    placed: List[str] = field(default_factory=list)
    dropped: List[str] = field(default_factory=list)
    unplaced: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    mismatched: List[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f'{self.fmt}: {len(self.placed)} keys placed']
        for what, keys in (('dropped (no counterpart, by rule)', self.dropped),
                           ('could not be placed', self.unplaced),
                           ('shape mismatches', self.mismatched),
                           ('model keys left without weights', self.missing)):
            if keys:
                lines.append(f'{len(keys)} {what}: ' + ', '.join(keys[:8])
                             + (' ...' if len(keys) > 8 else ''))
        return '\n'.join(lines)


def read_checkpoint(path: str, unsafe_load: bool = False) -> dict:
    """The project's ``safe_load`` (``weights_only``, mmengine's Runner types, safetensors);
    full pickle only with ``unsafe_load``, as loudly as the tools' ``--unsafe-load``."""
    from ..compat.safe_loading import UNSAFE_WARNING, safe_load
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no checkpoint file {path!r}')
    try:
        if unsafe_load:
            warnings.warn(UNSAFE_WARNING.format('--unsafe-load'), stacklevel=2)
            return torch.load(path, map_location='cpu', weights_only=False)
        return safe_load(path)
    except ValueError:          # safe_load's refusals name the file and the reason
        raise
    except Exception as err:  # noqa: BLE001 - torch raises UnpicklingError/RuntimeError variants
        raise ValueError(f'{path}: not a readable PyTorch checkpoint ({type(err).__name__}: '
                         f'{str(err).splitlines()[0]})') from None


def source_state(checkpoint, fmt: Format) -> Dict[str, torch.Tensor]:
    """The authors' state dict inside their wrapping."""
    state = checkpoint
    for key in fmt.unwrap:
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
            break
    if fmt.nested is not None:
        if not (isinstance(state, dict) and isinstance(state.get(fmt.nested), dict)):
            raise ValueError(f'expected {{{fmt.nested!r}: {{...}}}} ({fmt.description}); the file '
                             f'has keys {sorted(state)[:5] if isinstance(state, dict) else type(state)}')
        state = state[fmt.nested]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f'no state dict of tensors found ({fmt.description})')
    return dict(state)


def map_keys(state: Dict[str, torch.Tensor], fmt: Format, report: Report) -> Dict[str, torch.Tensor]:
    """Source keys → clipseg keys: a ``module.`` prefix (a wrapped save) stripped, then the first
    matching rule (a replacement of None drops the key: no counterpart)."""
    out = {}
    for key, value in state.items():
        key = re.sub(r'^module\.', '', key)
        if any(re.search(p, key) for p in fmt.drop):
            report.dropped.append(key)
            continue
        new = key
        for pattern, repl in fmt.rules:
            if re.search(pattern, key):
                new = None if repl is None else re.sub(pattern, repl, key, count=1)
                break
        if new is None:
            report.dropped.append(key)
        else:
            out[new] = value
    return out


def _no_weights(node) -> None:
    """Every ``pretrained`` in a model config off (CLIP tags/files → None, timm True → False)."""
    if isinstance(node, dict):
        if 'pretrained' in node:
            node['pretrained'] = False if node['pretrained'] is True else None
        for value in node.values():
            _no_weights(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _no_weights(value)


def target_state(config: str) -> Dict[str, torch.Tensor]:
    """The state dict a clipseg checkpoint of ``config`` holds (random weights, nothing fetched)."""
    from .inference import enter_world, load_config
    cfg = load_config(config)
    _no_weights(cfg.model)
    registry = enter_world(cfg)
    return registry.build(cfg.model).state_dict()


def convert_checkpoint(src: str, dst: str, fmt: str, config: Optional[str] = None,
                       unsafe_load: bool = False) -> Report:
    """Convert ``src`` (an authors' released file of format ``fmt``) into ``dst``; see the module
    docstring. ``config``: the clipseg config to check against (default: the format's)."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown checkpoint format {fmt!r}; choose one of {sorted(FORMATS)}')
    spec = FORMATS[fmt]
    report = Report(fmt)
    mapped = map_keys(source_state(read_checkpoint(src, unsafe_load), spec), spec, report)
    target = target_state(config or spec.config)
    for key, value in mapped.items():
        if key not in target:
            report.unplaced.append(key)
        elif tuple(value.shape) != tuple(target[key].shape):
            report.mismatched.append(f'{key} {tuple(value.shape)} vs {tuple(target[key].shape)}')
        else:
            report.placed.append(key)
    report.missing = sorted(k for k in set(target) - set(report.placed)
                            if not any(re.search(p, k) for p in spec.optional))
    if report.mismatched or report.missing or not report.placed:
        raise ValueError(f'{src} does not fit {config or spec.config} as {fmt!r}:\n'
                         + report.text())
    from ..utils import write_atomically
    state = {k: mapped[k] for k in report.placed}
    meta = dict(converted_from=fmt, source=os.path.basename(src), config=config or spec.config)
    write_atomically(dst, lambda tmp: torch.save(dict(state_dict=state, meta=meta), tmp))
    return report
