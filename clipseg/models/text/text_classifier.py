"""Class names → L2-normalised text embeddings through CLIP's text tower, with caching."""
import hashlib
import json
import os
import warnings
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...utils.atomic import write_atomically
from .class_names import ClassList, parse_classes
from .templates import get_templates
from .text_tower import TextTower

PROGRESS_MIN_PROMPTS = 300   # a progress bar for text encoding beyond this many prompts
PROGRESS_CHUNK = 128


class ClassEmbeddings(NamedTuple):
    """``queries`` (Q, D) unit vectors, one per synonym; ``query_class`` (Q,) class index of each."""
    queries: Tensor
    query_class: Tensor
    names: List[str]

    @property
    def num_classes(self) -> int:
        return len(self.names)


def token_count(tokenizer, text: str) -> Optional[int]:
    """Tokens ``text`` takes in the text tower's context (start/end included); None if unknown."""
    if hasattr(tokenizer, 'encode') and hasattr(tokenizer, 'sot_token_id'):   # open_clip BPE
        return len(tokenizer.encode(text)) + 2
    inner = getattr(tokenizer, 'tokenizer', None)                            # open_clip HF wrapper
    if inner is not None and callable(inner):
        return len(inner(text)['input_ids'])
    return None


class TextClassifier(nn.Module):
    """Embeds class lists with prompt-template ensembling (Radford et al., 2021, Sec. 3.1.4):
    each prompt is encoded and normalised, the mean over templates is normalised again.

    Results are cached in memory per class list and per name (a new class in a list encodes only
    its own prompts); with ``cache_dir`` and named weights
    (``weights_id``) also on disk, keyed by (model, weights, classes, templates). A disk entry
    records its key, shape and dtype and is checked on read (finite, unit norm); a bad entry is
    reported once, recomputed and rewritten, and an unwritable folder turns the disk cache off
    with one warning. Names whose prompts exceed the text context are an error (never truncated);
    a name given to two classes is an error unless ``allow_shared_names``.
    ``num_text_forwards`` counts calls of the text tower.
    """

    def __init__(self, clip_model: nn.Module, tokenizer, templates: Union[str, Sequence[str]] = 'openai_imagenet',
                 model_name: str = '', weights_id: Optional[str] = None,
                 cache_dir: Optional[str] = None, batch_size: int = 1024,
                 allow_shared_names: bool = False):
        super().__init__()
        self.clip = TextTower(clip_model).requires_grad_(False).eval()   # shares, never edits
        self.tokenizer = tokenizer
        self.templates = get_templates(templates)
        self.model_name = model_name
        self.weights_id = weights_id
        self.cache_dir = os.path.expanduser(cache_dir) if cache_dir else None
        self.batch_size = batch_size
        self.allow_shared_names = allow_shared_names
        self.num_text_forwards = 0
        self._cache: Dict[Tuple, Tuple[Tensor, Tensor]] = {}
        self._per_query: Dict[str, Tensor] = {}   # one (D,) embedding per name, this template set

    def train(self, mode: bool = True):
        return super().train(False)

    @property
    def context_length(self) -> Optional[int]:
        return getattr(self.tokenizer, 'context_length', None)

    def check_lengths(self, queries: Sequence[str]) -> None:
        """Every prompt of every name must fit the text context: else an error naming the class."""
        limit = self.context_length
        if not limit:
            return
        for query in queries:
            longest = max(token_count(self.tokenizer, t.format(query)) or 0 for t in self.templates)
            if longest > limit:
                raise ValueError(f'class name {query!r} is too long for the text tower: its prompts '
                                 f'take up to {longest} tokens, the context holds {limit}. '
                                 'Shorten the name (or use a shorter template set).')

    @torch.no_grad()
    def encode_prompts(self, prompts: List[str]) -> Tensor:
        """(P,) prompts → (P, D) unit vectors; a progress bar beyond a few hundred prompts."""
        device = next(self.clip.parameters()).device
        step, bar = self.batch_size, None
        if len(prompts) > PROGRESS_MIN_PROMPTS:
            from tqdm import tqdm
            step = min(step, PROGRESS_CHUNK)
            bar = tqdm(total=len(prompts), desc='encoding class prompts', unit='prompt')
        tokens = self.tokenizer(prompts)
        # batches of similar length: a causal text tower runs only up to each batch's last token
        order = torch.argsort((tokens != 0).sum(dim=-1), stable=True)
        out = torch.empty(0)
        for start in range(0, len(prompts), step):
            index = order[start:start + step]
            self.num_text_forwards += 1
            emb = F.normalize(self.clip.encode_text(tokens[index].to(device)).float(), dim=-1)
            if out.numel() == 0:
                out = emb.new_empty((len(prompts), emb.shape[-1]))
            out[index.to(emb.device)] = emb
            if bar is not None:
                bar.update(len(index))
        if bar is not None:
            bar.close()
        return out

    # ----- disk cache --------------------------------------------------------------------------
    def _disk_key(self, queries: Tuple[str, ...]) -> str:
        return json.dumps([self.model_name, self.weights_id, queries, self.templates])

    def _disk_path(self, key: str) -> Optional[str]:
        if not self.cache_dir or not self.weights_id:
            return None
        return os.path.join(self.cache_dir, hashlib.sha256(key.encode()).hexdigest()[:32] + '.pt')

    @staticmethod
    def _entry_problem(entry, key: str, num_queries: int) -> Optional[str]:
        """Why a cache entry cannot be used, or None."""
        if not isinstance(entry, dict) or not {'key', 'shape', 'dtype', 'embeddings'} <= set(entry):
            return 'not a text-embedding cache entry'
        emb = entry['embeddings']
        if entry['key'] != key:
            return 'an entry for other classes or weights'
        if not isinstance(emb, Tensor) or list(emb.shape) != list(entry['shape']) \
                or str(emb.dtype) != entry['dtype'] or emb.dim() != 2 or emb.shape[0] != num_queries:
            return f'of the wrong shape or type ({getattr(emb, "shape", type(emb).__name__)})'
        if not torch.isfinite(emb).all():
            return 'holding non-finite values'
        if not torch.allclose(emb.norm(dim=-1), torch.ones(emb.shape[0]), atol=1e-3):
            return 'holding vectors that are not unit length'
        return None

    def _read_disk(self, path: str, key: str, num_queries: int) -> Optional[Tensor]:
        if not os.path.isfile(path):
            return None
        try:
            entry = torch.load(path, map_location='cpu', weights_only=True)
            problem = self._entry_problem(entry, key, num_queries)
        except Exception as err:  # noqa: BLE001 - any unreadable file is recomputed
            problem = f'unreadable ({type(err).__name__})'
        if problem is None:
            return entry['embeddings']
        warnings.warn(f'text cache file {path} is {problem}; recomputing and rewriting it',
                      stacklevel=3)
        return None

    def _write_disk(self, path: str, key: str, emb: Tensor) -> None:
        entry = dict(key=key, shape=list(emb.shape), dtype=str(emb.dtype), embeddings=emb)
        try:
            write_atomically(path, lambda tmp: torch.save(entry, tmp))
        except Exception as err:  # noqa: BLE001 - full disk: torch.save raises RuntimeError
            why = getattr(err, 'strerror', None) or str(err).splitlines()[0]
            warnings.warn(f'text cache folder {self.cache_dir} is not writable ({why}); '
                          'going on without the disk cache', stacklevel=3)
            self.cache_dir = None

    def _encode_queries(self, queries: Tuple[str, ...]) -> Tensor:
        key = self._disk_key(queries)
        path = self._disk_path(key)
        if path:
            emb = self._read_disk(path, key, len(queries))
            if emb is not None:
                for q, e in zip(queries, emb):
                    self._per_query.setdefault(q, e)
                return emb
        missing = list(dict.fromkeys(q for q in queries if q not in self._per_query))
        if missing:       # a new class costs its own prompts only; known ones are reused
            T = len(self.templates)
            prompts = [t.format(q) for q in missing for t in self.templates]
            new = self.encode_prompts(prompts).reshape(len(missing), T, -1).mean(dim=1)
            for q, e in zip(missing, F.normalize(new, dim=-1).cpu()):
                self._per_query[q] = e
        emb = torch.stack([self._per_query[q] for q in queries])
        if path:
            self._write_disk(path, key, emb)
        return emb

    def forward(self, classes: ClassList) -> ClassEmbeddings:
        parsed = parse_classes(classes, self.allow_shared_names)
        queries = tuple(n for names in parsed for n in names)
        key = (queries, self.templates)
        if key not in self._cache:
            self.check_lengths(queries)
            query_class = torch.tensor([i for i, names in enumerate(parsed) for _ in names])
            self._cache[key] = (self._encode_queries(queries), query_class)
        emb, query_class = self._cache[key]
        device = next(self.clip.parameters()).device
        return ClassEmbeddings(emb.to(device), query_class.to(device), [n[0] for n in parsed])
