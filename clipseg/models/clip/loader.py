"""Build an open_clip model and its tokenizer from a name and a weights source.

Weights may be an open_clip pretrained tag (``'openai'``, ``'laion2b_s34b_b88k'``), a local
checkpoint file, or ``None`` (random init). ``model_name`` may also be ``'hf-hub:org/repo'``.
Offline, a source that is not cached fails at once with one error that names the model and how to
pass a local file; checkpoints are read with ``torch.load(weights_only=True)``.
"""
import contextlib
import difflib
import functools
import os
import socket
from typing import Optional, Tuple

import open_clip
import torch
from torch import nn

from ...compat import quiet
from .positions import set_trained_grid

HUB_HOST = ('huggingface.co', 443)


class WeightsUnavailableError(RuntimeError):
    """The requested CLIP weights cannot be obtained on this machine."""


def _offline() -> bool:
    if os.environ.get('HF_HUB_OFFLINE', '0').lower() in ('1', 'true', 'yes', 'on'):
        return True
    try:
        socket.create_connection(HUB_HOST, timeout=3).close()
        return False
    except OSError:
        return True


def _unavailable(model_name: str, source: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f'CLIP weights {source!r} for model {model_name!r} are not cached and the model hub cannot '
        'be reached (offline or HF_HUB_OFFLINE=1). Download them on a machine with network access '
        f'and pass the local file instead, e.g. --weights /path/to/{model_name}.bin '
        '(or pretrained="/path/to/file" in the config).')


def _tag_is_cached(model_name: str, tag: str) -> bool:
    cfg = open_clip.get_pretrained_cfg(model_name, tag)
    if cfg.get('file'):
        return os.path.isfile(cfg['file'])
    hub = cfg.get('hf_hub', '')
    if hub:
        from huggingface_hub import try_to_load_from_cache
        repo_id, filename = os.path.split(hub)
        names = [filename] if filename else ['open_clip_model.safetensors',
                                             'open_clip_pytorch_model.bin']
        if any(isinstance(try_to_load_from_cache(repo_id, n), str) for n in names):
            return True
    url = cfg.get('url', '')
    if url:
        cache = os.path.expanduser('~/.cache/clip')
        return os.path.isfile(os.path.join(cache, os.path.basename(url)))
    return False


def _check_model_name(model_name: str) -> None:
    if model_name.startswith(('hf-hub:', 'local-dir:')):
        return
    known = open_clip.list_models()
    if model_name.replace('/', '-') not in known:
        close = difflib.get_close_matches(model_name, known, n=5)
        hint = f' Did you mean {close}?' if close else ''
        raise ValueError(f'unknown open_clip model name {model_name!r}.{hint} '
                         'See open_clip.list_models() for all names.')


def load_checkpoint_into(model: nn.Module, path: str, model_name: str) -> None:
    """Load a local CLIP checkpoint (safe ``weights_only`` loading) or fail naming the mismatch."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'CLIP checkpoint file not found: {path!r}')
    if path.endswith('.safetensors'):
        from safetensors import SafetensorError
        from safetensors.torch import load_file
        try:
            state = load_file(path)
        except (SafetensorError, OSError) as err:
            raise ValueError(f'cannot read CLIP checkpoint {path!r} as safetensors: {err}') from None
    else:
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as err:  # noqa: BLE001  (torch raises many kinds here)
            raise ValueError(f'cannot read CLIP checkpoint {path!r}: {err}. OpenAI TorchScript '
                             'archives are not supported; convert them with open_clip first.') from err
    if isinstance(state, dict):
        for key in ('state_dict', 'model', 'model_state_dict'):
            if key in state and isinstance(state[key], dict):
                state = state[key]
                break
    if not isinstance(state, dict) or not state:
        raise ValueError(f'CLIP checkpoint {path!r} holds no state dict')
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        details = []
        if missing:
            details.append(f'{len(missing)} missing keys (e.g. {missing[:3]})')
        if unexpected:
            details.append(f'{len(unexpected)} unexpected keys (e.g. {unexpected[:3]})')
        if wrong:
            k = wrong[0]
            details.append(f'{len(wrong)} shape mismatches (e.g. {k}: checkpoint '
                           f'{tuple(state[k].shape)} vs model {tuple(own[k].shape)})')
        raise ValueError(f'checkpoint {path!r} does not fit CLIP model {model_name!r}: '
                         + '; '.join(details) + '. Is it a checkpoint of another architecture?')
    model.load_state_dict(state, strict=True)


def weights_source(pretrained: Optional[str]) -> Optional[str]:
    """What a weights value is, decided here only: ``'hf-hub'`` (``hf-hub:org/repo``), ``'file'``
    (a path with a folder or a checkpoint suffix, or an existing file whose name is not an open_clip
    tag: a tag stays a tag even if a file of that name lies in the working folder), ``'tag'``, or
    ``None`` (random weights)."""
    if not pretrained:
        return None
    if pretrained.startswith('hf-hub:'):
        return 'hf-hub'
    if os.path.sep in pretrained or pretrained.endswith(('.pt', '.pth', '.bin', '.safetensors')):
        return 'file'
    return 'file' if os.path.isfile(pretrained) and pretrained not in known_tags() else 'tag'


def is_weights_file(pretrained: Optional[str]) -> bool:
    """A local checkpoint path rather than a pretrained tag or hf-hub name (``weights_source``)."""
    return weights_source(pretrained) == 'file'


def weights_id(model_name: str, pretrained: Optional[str]) -> Optional[str]:
    """A string naming the weights for cache keys: a file by its path, size and time, a tag or
    hf-hub name by the model and itself; ``None`` for random weights."""
    source = weights_source(pretrained)
    if source is None:
        return None
    if source == 'file' and os.path.isfile(pretrained):
        st = os.stat(pretrained)
        return f'{os.path.abspath(pretrained)}:{st.st_size}:{int(st.st_mtime)}'
    return f'{model_name}:{pretrained}'


@functools.lru_cache(maxsize=1)
def known_tags() -> frozenset:
    """Every open_clip pretrained tag (``'openai'``, ``'laion2b_s34b_b88k'``, ...)."""
    return frozenset(tag for _, tag in open_clip.list_pretrained())


def override_weights(clip_cfg: dict, weights: str) -> dict:
    """Put ``weights`` (tag, file or hf-hub name) into a ``create_clip`` config. A tag decides its
    own activation, so the config's ``quick_gelu`` is dropped; a file keeps it (the file holds no
    architecture, and OpenAI weights need QuickGELU)."""
    previous = clip_cfg.get('pretrained')
    clip_cfg['pretrained'] = weights
    if not is_weights_file(weights):
        clip_cfg.pop('quick_gelu', None)
        clip_cfg.pop('preprocess_tag', None)
    elif weights_source(previous) == 'tag':
        clip_cfg.setdefault('preprocess_tag', previous)  # a local copy of the config's tag
    return clip_cfg


def file_preprocess_cfg(model_name: str, preprocess_tag: Optional[str] = None) -> dict:
    """The preprocessing of a local weights file of ``model_name``: that of ``preprocess_tag``, or
    of the model's tags when they all agree on mean/std (open_clip's static table, no download).
    Tags that disagree (ViT-L-14: ``laion2b_s32b_b82k`` uses 0.5) need ``preprocess_tag``."""
    if model_name not in open_clip.list_models():
        return {}
    tags = open_clip.list_pretrained_tags_by_model(model_name)
    if preprocess_tag is not None:
        if preprocess_tag not in tags:
            raise ValueError(f'preprocess_tag {preprocess_tag!r} is not a tag of {model_name!r}: {tags}')
        tags = [preprocess_tag]
    keys = ('mean', 'std', 'interpolation', 'resize_mode')
    cfgs = {t: {k: v for k, v in open_clip.get_pretrained_cfg(model_name, t).items() if k in keys}
            for t in tags}
    norms = {(tuple(c.get('mean', ())), tuple(c.get('std', ()))) for c in cfgs.values()}
    if len(norms) > 1:
        raise ValueError(f'the tags of {model_name!r} normalise pixels differently ({sorted(cfgs)}); '
                         "say which tag the file holds: clip=dict(preprocess_tag='...')")
    return next(iter(cfgs.values()), {})


def pixel_mean_std(model: nn.Module):
    """The weights' own normalisation (open_clip's ``preprocess_cfg``: the pretrained tag's, else
    the architecture's) as 0-255 ``(mean, std)`` lists, mmseg's data-preprocessor convention."""
    cfg = getattr(getattr(model, 'visual', model), 'preprocess_cfg', None) or {}
    mean = cfg.get('mean', open_clip.OPENAI_DATASET_MEAN)
    std = cfg.get('std', open_clip.OPENAI_DATASET_STD)
    return [float(m) * 255 for m in mean], [float(s) * 255 for s in std]


def text_tokenizer(model_name: str):
    """open_clip's tokenizer for ``model_name``; a Hugging Face tokenizer (SigLIP, SigLIP 2, PE,
    MT5...) that cannot be had (no ``transformers``, or offline and not cached) fails here, with
    its name, instead of somewhere inside transformers."""
    hf_name = ((open_clip.get_model_config(model_name) or {}).get('text_cfg') or {}).get(
        'hf_tokenizer_name')
    if hf_name:
        try:
            import transformers  # noqa: F401
        except ImportError:
            from ...utils.errors import MissingPackageError
            raise MissingPackageError(
                f'{model_name!r} tokenizes text with the Hugging Face tokenizer {hf_name!r}, which '
                'needs transformers: pip install "clipseg[siglip]" (or pip install transformers)') from None
        if _offline():
            from huggingface_hub import try_to_load_from_cache
            if not any(isinstance(try_to_load_from_cache(hf_name, f), str)
                       for f in ('tokenizer.json', 'tokenizer_config.json', 'spiece.model')):
                raise WeightsUnavailableError(
                    f'the text tokenizer {hf_name!r} of {model_name!r} is not cached and the hub '
                    'cannot be reached: download it once on a machine with network access '
                    '(HF cache), then run offline')
    return open_clip.get_tokenizer(model_name)


DYNAMIC_SIZE_MODULES = ('timm.models.vision_transformer', 'timm.models.eva')


@contextlib.contextmanager
def timm_arguments(kwargs: dict):
    """Extra arguments for the ``timm.create_model`` call of open_clip's TimmModel, which
    open_clip's config has no field for: a custom-width timm tower
    (``vision_cfg.timm_model_kwargs``), and for every timm ViT / EVA trunk timm's dynamic-size mode
    (``dynamic_img_size=True``: any input size, positions resampled per input, rotary embeddings
    built per grid), so that the dense adapters take the tower as built and never edit it."""
    import timm
    create = timm.create_model

    def create_for_dense_use(name, **kw):
        extra = dict(kwargs)
        try:
            module = timm.models.model_entrypoint(name.split('.')[0]).__module__
        except Exception:  # noqa: BLE001 - an unknown name: timm's own error follows
            module = ''
        if module in DYNAMIC_SIZE_MODULES:
            extra.setdefault('dynamic_img_size', True)
        return create(name, **{**kw, **extra})
    timm.create_model = create_for_dense_use
    try:
        yield
    finally:
        timm.create_model = create


def create_clip(model_name: str = 'ViT-B-16',
                pretrained: Optional[str] = None,
                model_cfg: Optional[dict] = None,
                quick_gelu: Optional[bool] = None,
                preprocess_tag: Optional[str] = None,
                pos_grid: Optional[int] = None) -> Tuple[nn.Module, object]:
    """Return ``(clip_model, tokenizer)`` in eval mode on the CPU.

    Args:
        model_name: an open_clip model name (``open_clip.list_models()``) or ``'hf-hub:org/repo'``.
            With ``model_cfg`` it is only a label.
        pretrained: a pretrained tag of that model, a local checkpoint path, or ``None`` (random).
        model_cfg: an open_clip architecture dict (``embed_dim``, ``vision_cfg``, ``text_cfg``) to
            build instead of a named one, e.g. a tiny model for tests; ``custom_text=True`` builds
            a ``CustomTextCLIP`` (SigLIP-style), ``vision_cfg.timm_model_kwargs`` sizes a timm tower.
        quick_gelu: QuickGELU (OpenAI weights) or GELU. With a tag, ``None`` follows the tag and a
            contradicting value is an error; with a file or random weights, ``None`` means GELU, so
            configs of OpenAI weights state ``quick_gelu=True`` (a local copy of a tag's weights
            then builds the same model as the tag).
        preprocess_tag: with a local weights file, the tag whose preprocessing (mean/std,
            interpolation) the file was trained with; default: the model's tags' common one.
        pos_grid: build the image tower with its positional embedding resized once to this grid,
            to be trained there (DenseCLIP; ``positions.set_trained_grid``).
    """
    model, tokenizer = _build_clip(model_name, pretrained, model_cfg, quick_gelu, preprocess_tag)
    if pos_grid is not None:
        set_trained_grid(model.visual, pos_grid)
    return model, tokenizer


def _build_clip(model_name, pretrained, model_cfg, quick_gelu, preprocess_tag):
    if model_cfg is not None:
        cfg = dict(model_cfg)
        if quick_gelu is not None:
            cfg['quick_gelu'] = quick_gelu
        vision = dict(cfg['vision_cfg'])
        timm_kwargs = vision.pop('timm_model_kwargs', None)
        cfg['vision_cfg'] = vision
        model_class = open_clip.CustomTextCLIP if cfg.pop('custom_text', False) else open_clip.CLIP
        with timm_arguments(timm_kwargs or {}):
            model = model_class(**cfg)
        tokenizer = open_clip.SimpleTokenizer(context_length=cfg['text_cfg'].get('context_length', 77))
        if pretrained:
            load_checkpoint_into(model, pretrained, model_name)
        return model.eval(), tokenizer

    if pretrained and pretrained.startswith('hf-hub:'):
        model_name, pretrained = pretrained, None  # --weights hf-hub:org/repo names the whole model
    _check_model_name(model_name)
    is_file = is_weights_file(pretrained)
    kwargs = {}
    if model_name.startswith('hf-hub:'):
        if _offline():
            from huggingface_hub import try_to_load_from_cache
            repo = model_name[len('hf-hub:'):]
            if not isinstance(try_to_load_from_cache(repo, 'open_clip_config.json'), str):
                raise _unavailable(model_name, model_name)
        with timm_arguments({}):
            model = open_clip.create_model(model_name)
        return model.eval(), open_clip.get_tokenizer(model_name)

    tokenizer = text_tokenizer(model_name)  # before any weights: a missing tokenizer fails fast
    if pretrained and not is_file:
        tags = open_clip.list_pretrained_tags_by_model(model_name)
        if pretrained not in tags:
            raise ValueError(f'unknown pretrained tag {pretrained!r} for model {model_name!r}; '
                             f'known tags: {tags}, or pass a local checkpoint file')
        tag_gelu = bool(open_clip.get_pretrained_cfg(model_name, pretrained).get('quick_gelu', False))
        if quick_gelu is not None and bool(quick_gelu) != tag_gelu:
            raise ValueError(f'quick_gelu={quick_gelu} contradicts the weights {model_name!r} '
                             f'{pretrained!r}, trained with {"QuickGELU" if tag_gelu else "GELU"}: '
                             f'set quick_gelu={tag_gelu} or leave it out')
        quick_gelu = tag_gelu
        if not _tag_is_cached(model_name, pretrained) and _offline():
            raise _unavailable(model_name, pretrained)
        kwargs['pretrained'] = pretrained
    with quiet.weights_loaded_by_us() if is_file else contextlib.nullcontext(), timm_arguments({}):
        model = open_clip.create_model(model_name, force_quick_gelu=bool(quick_gelu), **kwargs)
    if is_file:
        load_checkpoint_into(model, pretrained, model_name)
        model.visual.preprocess_cfg = {**getattr(model.visual, 'preprocess_cfg', {}),
                                       **file_preprocess_cfg(model_name, preprocess_tag)}
    return model.eval(), tokenizer
