"""An on-disk index of a folder's CLIP image embeddings, searched by text (ReCo's retrieval).

Built once and kept: embeddings are written in chunks, each atomically, so a killed build resumes
where it stopped; the index is keyed by the folder's contents (relative path, size, mtime of every
image) and the encoder (model, weights, input size) and rebuilt when either changes. Search is
faiss inner product on unit vectors (cosine): exact (``IndexFlatIP``) or, for large collections,
inverted lists (``IndexIVFFlat``, ``ivf_lists``).
"""
import hashlib
import json
import os
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.atomic import write_atomically
from ..utils.errors import MissingPackageError
from ..utils.image_io import list_images

MANIFEST, FILES, INDEX = 'manifest.json', 'files.json', 'index.faiss'
VERSION = 1


class IndexMismatchError(ValueError):
    """An index built for other images or with another encoder than the one asked for."""


def import_faiss():
    try:
        import faiss
    except ImportError:
        raise MissingPackageError('the image index needs faiss: pip install "clipseg[reco]" '
                                  '(or pip install faiss-cpu)') from None
    return faiss


def folder_key(root: str, files: Sequence[str]) -> str:
    """sha256 of every image's relative path, size and modification time."""
    digest = hashlib.sha256()
    for rel in files:
        st = os.stat(os.path.join(root, rel))
        digest.update(f'{rel}\0{st.st_size}\0{st.st_mtime_ns}\n'.encode())
    return digest.hexdigest()


class ImageEncoder:
    """CLIP's image tower with CLIP's evaluation transform (bicubic resize of the short side,
    centre crop, normalise; ReCo ``utils/extract_image_embeddings.py:92-98``): image paths →
    (n, D) float32 unit embeddings. ``identity`` names model, weights and size."""

    def __init__(self, model: torch.nn.Module, identity: str, device: str = 'cpu'):
        import open_clip
        from ..models.clip import pixel_mean_std
        visual = model.visual
        size = visual.image_size if isinstance(visual.image_size, int) else visual.image_size[0]
        mean, std = pixel_mean_std(model)
        self.transform = open_clip.image_transform(size, is_train=False, mean=[m / 255 for m in mean],
                                                   std=[s / 255 for s in std])
        self.model, self.size, self.device = model.to(device).eval(), int(size), device
        self.identity = f'{identity}|{self.size}'

    @torch.no_grad()
    def __call__(self, paths: Sequence[str]) -> np.ndarray:
        from PIL import Image
        batch = []
        for path in paths:
            try:
                with Image.open(path) as img:
                    batch.append(self.transform(img.convert('RGB')))
            except (OSError, ValueError) as err:
                raise ValueError(f'cannot read image {path!r} for the index: {err}') from None
        feats = self.model.encode_image(torch.stack(batch).to(self.device))
        return F.normalize(feats.float(), dim=-1).cpu().numpy()


class ImageIndex:
    """A built index: ``search(text_embeddings, k)`` → scores and image paths."""

    def __init__(self, out_dir: str, manifest: dict, files: List[str], index):
        self.out_dir, self.manifest, self.files, self.index = out_dir, manifest, files, index

    @property
    def folder(self) -> str:
        return self.manifest['folder']

    def __len__(self) -> int:
        return len(self.files)

    # ----- building ----------------------------------------------------------------------------
    @classmethod
    def build(cls, folder: str, out_dir: str, encoder: Callable, batch_size: int = 32,
              chunk: int = 512, ivf_lists: Optional[int] = None, progress: bool = True) -> 'ImageIndex':
        """Embed every image under ``folder`` (recursively) into ``out_dir``; resumes a build of
        the same folder and encoder, starts over when either changed."""
        faiss = import_faiss()
        folder = os.path.abspath(folder)
        if not os.path.isdir(folder):
            raise FileNotFoundError(f'image folder not found: {folder!r}')
        files = [os.path.relpath(p, folder) for p in list_images(folder)]
        if not files:
            raise ValueError(f'no images under {folder!r}')
        want = dict(version=VERSION, folder=folder, folder_key=folder_key(folder, files),
                    encoder=encoder.identity, count=len(files), chunk=int(chunk),
                    ivf_lists=ivf_lists, complete=False)
        os.makedirs(out_dir, exist_ok=True)
        old = _read_json(os.path.join(out_dir, MANIFEST))
        same = old is not None and all(old.get(k) == v for k, v in want.items() if k != 'complete')
        if same and old.get('complete'):
            return cls.load(out_dir, encoder.identity)
        if not same:                    # another folder state or encoder: start over
            for name in os.listdir(out_dir):
                if name.startswith('chunk_') or name in (INDEX, FILES, MANIFEST):
                    os.remove(os.path.join(out_dir, name))
            _write_json(os.path.join(out_dir, FILES), files)
            _write_json(os.path.join(out_dir, MANIFEST), want)
        starts = range(0, len(files), chunk)
        done = [s for s in starts if _chunk_ok(out_dir, s, min(chunk, len(files) - s))]
        from tqdm import tqdm
        with tqdm(total=len(files), initial=sum(min(chunk, len(files) - s) for s in done),
                  desc=f'indexing {os.path.basename(folder)}', unit='img', disable=not progress) as bar:
            for start in starts:
                if start in done:
                    continue
                part = files[start:start + chunk]
                emb = []
                for b in range(0, len(part), batch_size):
                    emb.append(encoder([os.path.join(folder, f) for f in part[b:b + batch_size]]))
                    bar.update(len(part[b:b + batch_size]))
                arr = np.concatenate(emb).astype(np.float32)
                write_atomically(_chunk_path(out_dir, start), lambda t, a=arr: _save_npy(t, a))
        emb = np.concatenate([np.load(_chunk_path(out_dir, s)) for s in starts])
        index = _faiss_index(faiss, emb, ivf_lists)
        write_atomically(os.path.join(out_dir, INDEX), lambda t: faiss.write_index(index, t))
        _write_json(os.path.join(out_dir, MANIFEST), dict(want, complete=True, dim=int(emb.shape[1])))
        return cls.load(out_dir, encoder.identity)

    # ----- loading and search --------------------------------------------------------------------
    @classmethod
    def load(cls, out_dir: str, encoder_identity: Optional[str] = None) -> 'ImageIndex':
        """A complete index; ``encoder_identity`` must be the one it was built with."""
        faiss = import_faiss()
        manifest = _read_json(os.path.join(out_dir, MANIFEST))
        if manifest is None:
            raise FileNotFoundError(f'no image index in {out_dir!r} (build one: python '
                                    'tools/build_index.py FOLDER --out DIR)')
        if not manifest.get('complete'):
            raise ValueError(f'the image index in {out_dir!r} is not finished: run '
                             'tools/build_index.py again on its folder to resume it')
        if encoder_identity is not None and manifest['encoder'] != encoder_identity:
            raise IndexMismatchError(
                f'the image index in {out_dir!r} was built with {manifest["encoder"]!r}, not '
                f'{encoder_identity!r}: rebuild it with these weights (tools/build_index.py)')
        files = _read_json(os.path.join(out_dir, FILES))
        index = faiss.read_index(os.path.join(out_dir, INDEX))
        if files is None or index.ntotal != len(files):
            raise ValueError(f'the image index in {out_dir!r} is damaged ({INDEX} and {FILES} '
                             'disagree): rebuild it')
        return cls(out_dir, manifest, files, index)

    def search(self, queries: np.ndarray, k: int) -> Tuple[np.ndarray, List[List[str]]]:
        """(Q, D) unit text embeddings → (Q, k) cosine scores, best first, and the image paths."""
        queries = np.ascontiguousarray(np.asarray(queries, dtype=np.float32))
        if queries.ndim != 2 or queries.shape[1] != self.index.d:
            raise ValueError(f'queries must be (Q, {self.index.d}), got {queries.shape}')
        k = min(int(k), len(self.files))
        scores, ids = self.index.search(queries, k)
        return scores, [[os.path.join(self.folder, self.files[i]) for i in row] for row in ids]


def _faiss_index(faiss, emb: np.ndarray, ivf_lists: Optional[int]):
    d = emb.shape[1]
    if ivf_lists:
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, int(ivf_lists), faiss.METRIC_INNER_PRODUCT)
        index.train(emb)
        index.nprobe = max(1, int(ivf_lists) // 8)
    else:
        index = faiss.IndexFlatIP(d)
    index.add(emb)
    return index


def _chunk_path(out_dir: str, start: int) -> str:
    return os.path.join(out_dir, f'chunk_{start:09d}.npy')


def _chunk_ok(out_dir: str, start: int, n: int) -> bool:
    try:
        return np.load(_chunk_path(out_dir, start), mmap_mode='r').shape[0] == n
    except (OSError, ValueError):
        return False


def _save_npy(path: str, arr: np.ndarray) -> None:
    with open(path, 'wb') as f:
        np.save(f, arr)


def _read_json(path: str):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json(path: str, data) -> None:
    def write(tmp):
        with open(tmp, 'w', encoding='utf-8') as f:
            json.dump(data, f)
    write_atomically(path, write)
