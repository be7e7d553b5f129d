"""Class names → L2-normalised text embeddings through CLIP's text tower, with caching."""
import hashlib
import json
import os
import tempfile
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .class_names import ClassList, parse_classes
from .templates import get_templates


class ClassEmbeddings(NamedTuple):
    """``queries`` (Q, D) unit vectors, one per synonym; ``query_class`` (Q,) class index of each."""
    queries: Tensor
    query_class: Tensor
    names: List[str]

    @property
    def num_classes(self) -> int:
        return len(self.names)


class TextClassifier(nn.Module):
    """Embeds class lists with prompt-template ensembling (Radford et al., 2021, Sec. 3.1.4):
    each prompt is encoded and normalised, the mean over templates is normalised again.

    Results are cached in memory per (classes, templates); with ``cache_dir`` and named weights
    (``weights_id``) also on disk, keyed by (model, weights, classes, templates).
    ``num_text_forwards`` counts calls of the text tower.
    """

    def __init__(self, clip_model: nn.Module, tokenizer, templates: Union[str, Sequence[str]] = 'openai_imagenet',
                 model_name: str = '', weights_id: Optional[str] = None,
                 cache_dir: Optional[str] = None, batch_size: int = 1024):
        super().__init__()
        if hasattr(clip_model, 'visual'):
            clip_model.visual = nn.Identity()  # the image tower lives in the backbone adapter
        self.clip = clip_model.requires_grad_(False).eval()
        self.tokenizer = tokenizer
        self.templates = get_templates(templates)
        self.model_name = model_name
        self.weights_id = weights_id
        self.cache_dir = os.path.expanduser(cache_dir) if cache_dir else None
        self.batch_size = batch_size
        self.num_text_forwards = 0
        self._cache: Dict[Tuple, Tuple[Tensor, Tensor]] = {}

    def train(self, mode: bool = True):
        return super().train(False)

    @torch.no_grad()
    def encode_prompts(self, prompts: List[str]) -> Tensor:
        """(P,) prompts → (P, D) unit vectors."""
        device = next(self.clip.parameters()).device
        out = []
        for start in range(0, len(prompts), self.batch_size):
            tokens = self.tokenizer(prompts[start:start + self.batch_size]).to(device)
            self.num_text_forwards += 1
            out.append(F.normalize(self.clip.encode_text(tokens).float(), dim=-1))
        return torch.cat(out)

    def _disk_path(self, queries: Tuple[str, ...]) -> Optional[str]:
        if not self.cache_dir or not self.weights_id:
            return None
        key = json.dumps([self.model_name, self.weights_id, queries, self.templates])
        return os.path.join(self.cache_dir, hashlib.sha256(key.encode()).hexdigest()[:32] + '.pt')

    def _encode_queries(self, queries: Tuple[str, ...]) -> Tensor:
        path = self._disk_path(queries)
        if path and os.path.isfile(path):
            return torch.load(path, map_location='cpu', weights_only=True)
        T = len(self.templates)
        prompts = [t.format(q) for q in queries for t in self.templates]
        emb = self.encode_prompts(prompts).reshape(len(queries), T, -1).mean(dim=1)
        emb = F.normalize(emb, dim=-1).cpu()
        if path:
            os.makedirs(self.cache_dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix='.tmp')
            os.close(fd)
            torch.save(emb, tmp)
            os.replace(tmp, path)
        return emb

    def forward(self, classes: ClassList) -> ClassEmbeddings:
        parsed = parse_classes(classes)
        queries = tuple(n for names in parsed for n in names)
        key = (queries, self.templates)
        if key not in self._cache:
            query_class = torch.tensor([i for i, names in enumerate(parsed) for _ in names])
            self._cache[key] = (self._encode_queries(queries), query_class)
        emb, query_class = self._cache[key]
        device = next(self.clip.parameters()).device
        return ClassEmbeddings(emb.to(device), query_class.to(device), [n[0] for n in parsed])
