"""Convert the authors' released checkpoints into clipseg's key layout.

``convert_checkpoint(src, dst, 'dinoiser')`` reads ``src`` with ``torch.load(weights_only=True)``
(a file that needs full pickle is refused unless ``unsafe_load=True``), takes the state dict out of
the authors' wrapping, renames keys by the format's rules, checks every key and shape against the
clipseg model its config builds, and writes ``{'state_dict': ..., 'meta': ...}`` atomically: the
file loads with ``--checkpoint`` / ``init_model(checkpoint=...)``. Keys it could not place are
reported; a trained part left without weights, or a shape that does not fit, is an error and no
file is written.
"""
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import torch


@dataclass
class Format:
    """How one released checkpoint family maps onto a clipseg model."""
    description: str
    config: str                                   # the clipseg config it pairs with
    unwrap: Tuple[str, ...] = ('state_dict',)     # outer keys that may hold the state dict
    rules: Sequence[Tuple[str, str]] = ()         # (regex, replacement), first match wins
    drop: Sequence[str] = ()                      # regexes of source keys with no counterpart
    nested: Optional[str] = None                  # the state dict is {nested: {...}} (FOUND)
    optional: Sequence[str] = ()                  # regexes of model keys a release never holds
    note: str = ''


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
    """``torch.load`` with ``weights_only=True``; full pickle only with ``unsafe_load``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no checkpoint file {path!r}')
    try:
        return torch.load(path, map_location='cpu', weights_only=not unsafe_load)
    except Exception as err:  # noqa: BLE001 - torch raises UnpicklingError/RuntimeError variants
        if unsafe_load or 'weights_only' not in str(err) and 'Unsupported global' not in str(err):
            raise ValueError(f'{path}: not a readable PyTorch checkpoint ({type(err).__name__}: '
                             f'{str(err).splitlines()[0]})') from None
        raise ValueError(f'{path} needs full pickle to load (it holds objects other than tensors '
                         'and containers), which can run code: pass --unsafe-load '
                         '(unsafe_load=True) only for a file from a source you trust') from None


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
    out = {}
    for key, value in state.items():
        if any(re.search(p, key) for p in fmt.drop):
            report.dropped.append(key)
            continue
        new = key
        for pattern, repl in fmt.rules:
            if re.search(pattern, key):
                new = re.sub(pattern, repl, key, count=1)
                break
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
