"""CLIP-DINOiser's on-disk teacher cache: a repeated crop skips DINO and gets the same targets."""
import torch

from ..conftest import TINY_DINO, tiny_dinoiser


def dinoiser(**kwargs):
    """A tiny CLIP-DINOiser whose random teachers are the same in every call."""
    seg = tiny_dinoiser(**kwargs)
    torch.manual_seed(1)
    seg.teachers()
    return seg


def dino_calls(seg):
    calls = []
    seg.teachers()[0].vit.patch_embed.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    return calls


def batch(seed):
    torch.manual_seed(seed)
    imgs = torch.randn(3, 3, 64, 64)
    imgs[:, :, 16:48, 16:48] += 2.0
    return imgs


def test_second_epoch_skips_dino_and_gives_the_same_targets(tmp_path):
    seg = dinoiser(teacher_cache_dir=str(tmp_path))
    plain = dinoiser()
    calls = dino_calls(seg)
    first = seg.teacher_targets(batch(0))
    second = seg.teacher_targets(batch(0))
    assert calls == [3]                                  # the second call ran no DINO forward
    assert seg.teacher_cache.hits == 3 and seg.teacher_cache.misses == 3
    want = plain.teacher_targets(batch(0))
    for got in (first, second):
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    assert set(want[0].unique().tolist()) == {0.0, 1.0}


def test_only_new_crops_go_through_dino(tmp_path):
    seg = dinoiser(teacher_cache_dir=str(tmp_path))
    calls = dino_calls(seg)
    seg.teacher_targets(batch(0))
    mixed = torch.cat([batch(0)[:2], batch(1)[:1]])
    corr, fg = seg.teacher_targets(mixed)
    assert calls == [3, 1]
    want = dinoiser().teacher_targets(mixed)
    assert torch.equal(corr, want[0]) and torch.equal(fg, want[1])


def test_other_teacher_weights_or_gamma_do_not_share_entries(tmp_path):
    dinoiser(teacher_cache_dir=str(tmp_path)).teacher_targets(batch(0))
    other = dinoiser(teacher_cache_dir=str(tmp_path),
                          teacher=dict(TINY_DINO, model_kwargs=dict(embed_dim=32, depth=1, num_heads=2)))
    other.teacher_targets(batch(0))
    assert other.teacher_cache.hits == 0
    gamma = dinoiser(teacher_cache_dir=str(tmp_path), gamma=0.5)
    gamma.teacher_targets(batch(0))
    assert gamma.teacher_cache.hits == 0


def test_unreadable_entry_is_recomputed_and_no_temp_files_remain(tmp_path):
    seg = dinoiser(teacher_cache_dir=str(tmp_path))
    want = seg.teacher_targets(batch(0))
    files = sorted(tmp_path.rglob('*.pt'))
    assert len(files) == 3 and not list(tmp_path.rglob('.clipseg-tmp-*'))
    files[0].write_bytes(b'truncated')
    again = dinoiser(teacher_cache_dir=str(tmp_path))
    calls = dino_calls(again)
    got = again.teacher_targets(batch(0))
    assert calls == [1] and again.teacher_cache.hits == 2
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
    cache = again.teacher_cache
    assert cache.lookup(cache.paths(batch(0)), 'cpu').count(None) == 0   # rewritten
