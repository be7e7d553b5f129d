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
    transform: Optional[Callable[[str, torch.Tensor, tuple], torch.Tensor]] = None  # (our key,
    #   value, our shape) → value, for layouts that differ in more than names
    side: Optional['SideFile'] = None             # a part written to its own file (CLIP weights)
    part: Optional[Tuple[str, str]] = None        # (model prefix, file prefix): only that part of
    #   the model is the target, written under the file prefix (a backbone's pre-training)


@dataclass
class SideFile:
    """Source keys matching ``pattern`` (group 1: the key in the side file) go to
    ``<dst stem><suffix>``, checked against the model keys ``model_prefixes`` maps them to
    (first matching side-key prefix → model prefix)."""
    pattern: str
    suffix: str
    model_prefixes: Sequence[Tuple[str, str]]
    description: str


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


def _ovseg_transform(key: str, value: torch.Tensor, shape: tuple) -> torch.Tensor:
    """Swin's merge order, and a prompt shared by all patches (shape (depth, 1, width), ov-seg
    ``third_party/CLIP/clip/model.py:334-335``) repeated to every patch position."""
    from .detectron2_keys import swin_merge_order
    if key == 'image_encoder.mask_embedding' and value.shape[1] == 1 and len(shape) == 3:
        return value.expand(shape).clone()
    return swin_merge_order(key, value, shape)


def _ovseg_format(backbone: str) -> Format:
    """OVSeg's two releases: Swin-B + ViT-L/14, R101c + ViT-B/16 (ov-seg GETTING_STARTED.md)."""
    from .detectron2_keys import deeplab_resnet_rules, maskformer_head_rules, swin_rules
    swin = backbone == 'swin'
    return Format(
        'OVSeg (facebookresearch/ov-seg GETTING_STARTED.md): '
        + ('ovseg_swinbase_vitL14_ft_mpt.pth' if swin else 'ovseg_R101c_vitB16_ft_mpt.pth')
        + ', a detectron2 checkpoint {"model": backbone.*, sem_seg_head.*, clip_adapter.*} '
        '(ovseg_model.py:29-118)',
        config=('ovseg_swin-b_vit-l14_ft-mpt_ade20k150' if swin
                else 'ovseg_r101c_vit-b16_ft-mpt_ade20k150'),
        unwrap=('model', 'state_dict'),
        rules=[(r'^clip_adapter\.clip_model\.visual\.mask_embedding$', 'image_encoder.mask_embedding'),
               (r'^clip_adapter\.non_object_embedding$', 'proposals.head.non_object_embedding')]
        + (swin_rules if swin else deeplab_resnet_rules)('proposals.backbone.')
        + maskformer_head_rules('proposals.head.'),
        drop=(r'^criterion\.', r'pixel_(mean|std)$', r'^clip_adapter\.(?!clip_model\.|non_object_embedding$)'),
        optional=() if swin else (r'num_batches_tracked$',),    # detectron2's FrozenBN has none
        transform=_ovseg_transform,
        side=SideFile(r'^clip_adapter\.clip_model\.(?!visual\.mask_embedding$)(.+)$', '_clip.pt',
                      [('visual.', 'image_encoder.visual.'), ('', 'text_encoder.clip.')],
                      'the fine-tuned CLIP (open_clip layout): model.clip.pretrained'))


def _swin_format() -> Format:
    from .detectron2_keys import swin_rules
    return Format(
        'Swin ImageNet weights (microsoft/Swin-Transformer, e.g. swin_base_patch4_window12_384_22k.pth: '
        '{"model": patch_embed.*, layers.*, norm.*, head.*}) as the init of an mmseg SwinTransformer '
        'backbone (init_cfg=dict(type="Pretrained", checkpoint=DST))',
        config='ovseg_swin-b_vit-l14_openai_train640_120k_coco-stuff171',
        unwrap=('model', 'state_dict'),
        rules=swin_rules('proposals.backbone.', source=''),
        drop=(r'^head\.', r'^norm\.', r'attn_mask$'),   # classifier, its norm, shift masks (rebuilt)
        optional=(r'\.norm\d\.',),                       # per-stage output norms: fresh, as detectron2's
        transform=_ovseg_transform, part=('proposals.backbone.', 'backbone.'),
        note='the backbone of OVSeg\'s first-stage training recipe; other Swin models: --config')


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
    'ovseg': _ovseg_format('swin'),
    'ovseg-r101c': _ovseg_format('r101c'),
    'swin': _swin_format(),
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
    side_file: Optional[str] = None

    def text(self) -> str:
        lines = [f'{self.fmt}: {len(self.placed)} keys placed']
        if self.side_file:
            lines.append(f'side file: {self.side_file}')
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


def target_state(config: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
    """The state dict a clipseg checkpoint of ``config`` holds, and the model's whole one (random
    weights, nothing fetched)."""
    from torch import nn
    from .inference import enter_world, load_config
    cfg = load_config(config)
    _no_weights(cfg.model)
    registry = enter_world(cfg)
    model = registry.build(cfg.model)
    return model.state_dict(), nn.Module.state_dict(model)


def split_side(state: Dict[str, torch.Tensor], side: 'SideFile') -> Dict[str, torch.Tensor]:
    """Take the side file's entries out of ``state`` (renamed by the pattern's group 1)."""
    taken = {}
    for key in list(state):
        m = re.match(side.pattern, re.sub(r'^module\.', '', key))
        if m:
            taken[m.group(1)] = state.pop(key)
    return taken


def check_side(taken: Dict[str, torch.Tensor], side: 'SideFile', full: Dict[str, torch.Tensor],
               report: 'Report') -> None:
    """Every side entry must land on a model key of the same shape, and cover them all."""
    expected = set()
    for _, model_prefix in side.model_prefixes:
        expected |= {k for k in full if k.startswith(model_prefix)}
    seen = set()
    for key, value in taken.items():
        side_prefix, model_prefix = next(p for p in side.model_prefixes if key.startswith(p[0]))
        model_key = model_prefix + key[len(side_prefix):]
        if model_key not in full:
            report.unplaced.append(f'{key} (side file)')
        elif tuple(value.shape) != tuple(full[model_key].shape):
            report.mismatched.append(f'{key} {tuple(value.shape)} vs {tuple(full[model_key].shape)}')
        else:
            seen.add(model_key)
    report.missing += sorted(expected - seen)


def convert_checkpoint(src: str, dst: str, fmt: str, config: Optional[str] = None,
                       unsafe_load: bool = False) -> Report:
    """Convert ``src`` (an authors' released file of format ``fmt``) into ``dst``; see the module
    docstring. ``config``: the clipseg config to check against (default: the format's)."""
    if fmt not in FORMATS:
        raise ValueError(f'unknown checkpoint format {fmt!r}; choose one of {sorted(FORMATS)}')
    spec = FORMATS[fmt]
    report = Report(fmt)
    state = source_state(read_checkpoint(src, unsafe_load), spec)
    side = split_side(state, spec.side) if spec.side else {}
    if spec.side and not side:
        raise ValueError(f'{src}: no {spec.side.description} entries (keys like '
                         f'{spec.side.pattern!r}): is it a checkpoint of another model?')
    mapped = map_keys(state, spec, report)
    target, full = target_state(config or spec.config)
    if spec.part:
        target = {k: v for k, v in full.items() if k.startswith(spec.part[0])}
    if spec.transform:
        mapped = {k: spec.transform(k, v, tuple(target[k].shape) if k in target else ())
                  for k, v in mapped.items()}
    for key, value in mapped.items():
        if key not in target:
            report.unplaced.append(key)
        elif tuple(value.shape) != tuple(target[key].shape):
            report.mismatched.append(f'{key} {tuple(value.shape)} vs {tuple(target[key].shape)}')
        else:
            report.placed.append(key)
    report.missing = sorted(k for k in set(target) - set(report.placed)
                            if not any(re.search(p, k) for p in spec.optional))
    if spec.side:
        check_side(side, spec.side, full, report)
    if report.mismatched or report.missing or (report.unplaced and spec.side) or not report.placed:
        raise ValueError(f'{src} does not fit {config or spec.config} as {fmt!r}:\n'
                         + report.text())
    from ..utils import write_atomically
    state = {k: mapped[k] for k in report.placed}
    for key in sorted(set(target) - set(state)):   # optional keys a release never holds: the
        state[key] = target[key]                   # model's own values (e.g. BN batch counters)
    if spec.part:
        state = {spec.part[1] + k[len(spec.part[0]):]: v for k, v in state.items()}
    meta = dict(converted_from=fmt, source=os.path.basename(src), config=config or spec.config)
    if spec.side:
        side_path = side_file_path(dst, spec.side)
        write_atomically(side_path, lambda tmp: torch.save(side, tmp))
        meta['side_file'] = os.path.basename(side_path)
        report.side_file = side_path
    write_atomically(dst, lambda tmp: torch.save(dict(state_dict=state, meta=meta), tmp))
    return report


def side_file_path(dst: str, side: SideFile) -> str:
    """``checkpoints/x.pth`` → ``checkpoints/x<suffix>``."""
    return os.path.splitext(dst)[0] + side.suffix
