"""On-disk cache of CLIP-DINOiser's teacher targets, so that later epochs over the same inputs
skip the DINO forward. One file per input crop, named by a hash of the crop and the teachers."""
import hashlib
import os
import warnings
from typing import List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor, nn

from ...utils.atomic import write_atomically


def fingerprint(*modules: nn.Module, extra: str = '') -> str:
    """A short hash of the modules' weights (a sample of every tensor) and ``extra`` settings:
    other weights, another architecture or another γ give another key."""
    h = hashlib.sha1(extra.encode())
    for module in modules:
        for name, t in module.state_dict().items():
            h.update(name.encode())
            h.update(str(tuple(t.shape)).encode())
            h.update(t.detach().flatten()[:256].float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


class TeacherCache:
    """Stores, per input crop (3, H, W), the binarised DINO correlations (h*w, h, w), bit-packed,
    and the background teacher's (1, h, w) foreground map.

    ``paths(inputs)`` names each sample's file; ``lookup(paths)`` → ``(corr, foreground)`` or
    ``None`` per sample; ``store(paths, ...)`` writes the misses atomically (temporary file +
    rename), so a killed run leaves no partial file. An unreadable file counts as a miss and is
    rewritten. ``hits``/``misses`` count samples.
    """

    def __init__(self, root: str, teacher_id: str):
        self.root = os.path.join(os.path.expanduser(root), teacher_id)
        os.makedirs(self.root, exist_ok=True)
        self.hits = self.misses = 0

    def paths(self, inputs: Tensor) -> List[str]:
        """(B, 3, H, W) crops → one file per crop, named by a hash of its values."""
        if self.root is None:       # turned off after a failed write
            return [''] * len(inputs)
        out = []
        for crop in inputs:
            data = crop.detach().float().contiguous().cpu().numpy()
            digest = hashlib.sha1(str(data.shape).encode() + data.tobytes()).hexdigest()
            out.append(os.path.join(self.root, digest[:2], digest + '.pt'))
        return out

    def lookup(self, paths: List[str], device) -> List[Optional[Tuple[Tensor, Tensor]]]:
        found = []
        for path in paths:
            item = None
            if path and os.path.isfile(path):
                try:
                    saved = torch.load(path, map_location='cpu', weights_only=True)
                    shape = tuple(saved['corr_shape'])
                    bits = np.unpackbits(saved['corr_bits'].numpy())[:int(np.prod(shape))]
                    corr = torch.from_numpy(bits.reshape(shape).astype(np.float32))
                    item = (corr.to(device), saved['foreground'].to(device))
                except Exception as err:  # noqa: BLE001 - any unreadable file is recomputed
                    warnings.warn(f'teacher cache file {path} is unreadable ({err}); recomputing')
            self.hits += item is not None
            self.misses += item is None
            found.append(item)
        return found

    def store(self, paths: List[str], corr: Tensor, foreground: Tensor) -> None:
        """B paths, corr (B, h*w, h, w) in {0, 1}, foreground (B, 1, h, w)."""
        if self.root is None:
            return
        for path, c, fg in zip(paths, corr, foreground):
            bits = torch.from_numpy(np.packbits(c.detach().cpu().numpy().astype(bool)))
            item = dict(corr_shape=list(c.shape), corr_bits=bits,
                        foreground=fg.detach().cpu().float())
            try:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_atomically(path, lambda tmp, item=item: torch.save(item, tmp))
            except Exception as err:  # noqa: BLE001 - full disk (RuntimeError), read-only folder
                why = getattr(err, 'strerror', None) or str(err).splitlines()[0]
                warnings.warn(f'cannot write the teacher cache in {self.root} ({why}); '
                              'training goes on without it')
                self.root = None
                return
