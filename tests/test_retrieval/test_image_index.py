"""The image index: a killed build resumes without redoing finished chunks, a changed folder or
encoder rebuilds or is refused by name, nothing half-written is left, and text finds the planted
image."""
import os

import cv2
import numpy as np
import pytest
import torch

pytest.importorskip('faiss')
from clipseg.models.clip.loader import create_clip  # noqa: E402
from clipseg.retrieval import ImageEncoder, ImageIndex, IndexMismatchError  # noqa: E402
from ..conftest import TINY_VIT  # noqa: E402


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    model, _ = create_clip('tiny', model_cfg=TINY_VIT)
    return ImageEncoder(model, 'tiny:test')


def _folder(path, n=9):
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = path / ('a' if i % 2 else 'b')
        sub.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(sub / f'{i:02d}.png'), rng.integers(0, 255, (40 + i, 50, 3), dtype=np.uint8))
    return path


class Counting:
    """The encoder, counting images; ``fail_after`` images it raises (a killed build)."""

    def __init__(self, encoder, fail_after=None):
        self.encoder, self.fail_after, self.seen = encoder, fail_after, 0
        self.identity = encoder.identity

    def __call__(self, paths):
        if self.fail_after is not None and self.seen + len(paths) > self.fail_after:
            raise KeyboardInterrupt
        self.seen += len(paths)
        return self.encoder(paths)


def test_killed_build_resumes_and_equals_a_clean_one(tmp_path, encoder):
    folder = _folder(tmp_path / 'imgs')
    killed = Counting(encoder, fail_after=6)
    with pytest.raises(KeyboardInterrupt):
        ImageIndex.build(folder, tmp_path / 'idx', killed, batch_size=2, chunk=4, progress=False)
    assert sorted(f for f in os.listdir(tmp_path / 'idx') if f.startswith('chunk_')) == [
        'chunk_000000000.npy']                                   # one finished chunk, no temp file
    assert not [f for f in os.listdir(tmp_path / 'idx') if 'tmp' in f or f.startswith('.clipseg')]
    with pytest.raises(ValueError, match='not finished'):
        ImageIndex.load(tmp_path / 'idx')
    resumed = Counting(encoder)
    index = ImageIndex.build(folder, tmp_path / 'idx', resumed, batch_size=2, chunk=4, progress=False)
    assert resumed.seen == 9 - 4 and len(index) == 9
    clean = ImageIndex.build(folder, tmp_path / 'clean', encoder, batch_size=3, chunk=100,
                             progress=False)
    q = encoder([os.path.join(folder, 'a', '03.png')])
    s1, p1 = index.search(q, 3)
    s2, p2 = clean.search(q, 3)
    assert p1 == p2 and np.allclose(s1, s2, atol=1e-6)
    assert p1[0][0].endswith(os.path.join('a', '03.png')) and s1[0][0] == pytest.approx(1, abs=1e-5)


def test_changed_folder_rebuilds_and_other_weights_are_refused(tmp_path, encoder):
    folder = _folder(tmp_path / 'imgs', 4)
    ImageIndex.build(folder, tmp_path / 'idx', encoder, chunk=2, progress=False)
    again = Counting(encoder)
    ImageIndex.build(folder, tmp_path / 'idx', again, chunk=2, progress=False)
    assert again.seen == 0                                       # complete and current: reused
    cv2.imwrite(str(folder / 'b' / 'new.png'), np.zeros((30, 30, 3), np.uint8))
    changed = Counting(encoder)
    index = ImageIndex.build(folder, tmp_path / 'idx', changed, chunk=2, progress=False)
    assert changed.seen == 5 and len(index) == 5                 # rebuilt from scratch
    with pytest.raises(IndexMismatchError, match="built with 'tiny:test|64', not 'other"):
        ImageIndex.load(tmp_path / 'idx', 'other|64')
    with pytest.raises(FileNotFoundError, match='tools/build_index.py'):
        ImageIndex.load(tmp_path / 'nothing')


def test_ivf_index_finds_the_planted_image(tmp_path, encoder):
    folder = _folder(tmp_path / 'imgs', 9)
    index = ImageIndex.build(folder, tmp_path / 'idx', encoder, ivf_lists=2, progress=False)
    index.index.nprobe = 2
    target = os.path.join(folder, 'b', '04.png')
    _, paths = index.search(encoder([target]), 1)
    assert paths[0] == [target]
