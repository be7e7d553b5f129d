import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..conftest import TINY_RN, tiny_segmentor


class PlantedAdapter(nn.Module):
    """Each 16×16 patch's feature is the text embedding of the class planted in channel 0:
    the patch's mean value in channel 0 is the class index."""
    patch_size = (16, 16)

    def __init__(self, queries):
        super().__init__()
        self.register_buffer('queries', queries)
        self.calls = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        cls = F.avg_pool2d(x[:, :1], 16, ceil_mode=True).round().long().clamp(0, len(self.queries) - 1)
        return (self.queries[cls[:, 0]].permute(0, 3, 1, 2),)


def planted(seg, labels):
    """An image whose channel 0 holds the label map."""
    seg.backbone = PlantedAdapter(seg.class_embeddings().queries)
    img = torch.zeros(1, 3, *labels.shape)
    img[0, 0] = labels.float()
    return img


def blocks(h, w, cells):
    """A label map of 32×32 blocks with the given class per block."""
    lab = torch.zeros(h, w, dtype=torch.long)
    for (r, c), k in cells.items():
        lab[r * 32:(r + 1) * 32, c * 32:(c + 1) * 32] = k
    return lab


@pytest.mark.parametrize('mode', ['slide', 'whole'])
def test_planted_label_map_is_recovered(mode):
    seg = tiny_segmentor(classes='cat,dog,car', mode=mode, logit_scale=50.0)
    want = blocks(96, 128, {(0, 1): 1, (1, 2): 2, (2, 0): 1, (2, 3): 2})
    pred = seg.predict(planted(seg, want))[0].pred_sem_seg.data[0]
    interior = F.max_pool2d((want != F.pad(want, (1, 0, 1, 0))[:96, :128]).float()[None], 17, 1, 8)[0] == 0
    assert (pred[interior] == want[interior]).all()
    assert (pred == want).float().mean() > 0.9


def test_synonyms_pool_into_their_class():
    seg = tiny_segmentor(classes=['cat; kitten', 'dog'], mode='whole', logit_scale=50.0)
    # queries: 0 cat, 1 kitten, 2 dog; plant 'kitten' on the left half
    want_query = blocks(64, 64, {(0, 0): 1, (1, 0): 1, (0, 1): 2, (1, 1): 2})
    pred = seg.predict(planted(seg, want_query))[0].pred_sem_seg.data[0]
    assert (pred[:, :24] == 0).all() and (pred[:, 40:] == 1).all()


def test_probability_threshold_gives_background():
    seg = tiny_segmentor(classes='background,cat,dog', mode='whole', logit_scale=1.0, prob_thd=0.9)
    pred = seg.predict(planted(seg, blocks(64, 64, {(0, 0): 1, (1, 1): 2})))[0].pred_sem_seg.data[0]
    assert (pred == 0).all()
    seg.test_cfg['prob_thd'] = 0.0
    pred = seg.predict(planted(seg, blocks(64, 64, {(0, 0): 1, (1, 1): 2})))[0].pred_sem_seg.data[0]
    assert (pred[:16, :16] == 1).all() and (pred[-16:, -16:] == 2).all()


def test_area_threshold_is_sclips():
    """SCLIP keeps a class when its area > area_thd × the non-background area, else zeroes it."""
    seg = tiny_segmentor(classes='background,cat,dog', mode='whole', logit_scale=50.0, area_thd=0.1)
    want = torch.zeros(128, 128, dtype=torch.long)
    want[:32, :32] = 2                             # dog: 6.25% of the image, 20% of the objects
    want[96:, :] = 1                               # cat: 25% of the image
    out = seg.predict(planted(seg, want))[0]
    pred, probs = out.pred_sem_seg.data[0], out.seg_logits.data
    assert (pred[4:28, 4:28] == 2).all()          # kept (a share of all pixels would drop it)
    assert (pred[100:] == 1).all() and probs[2].max() > 0.5     # not zeroed
    want[:32, :32] = 0
    want[:16, :16] = 2                             # dog: 1.6% of the image, 5.9% of the objects
    out = seg.predict(planted(seg, want))[0]
    assert not (out.pred_sem_seg.data[0] == 2).any()
    assert (out.seg_logits.data[2] == 0).all()     # dropped classes' probabilities are zeroed


def test_naclip_renormalizes_after_the_synonym_max():
    seg = tiny_segmentor(classes=['cat; kitten', 'dog'], mode='whole', logit_scale=1.0)
    x = torch.randn(1, 3, 64, 64)
    plain = seg.predict(x)[0].seg_logits.data
    assert (plain.sum(0) < 1 - 1e-3).all()         # max over synonyms loses mass
    seg.test_cfg['renormalize'] = True
    out = seg.predict(x)[0]
    torch.testing.assert_close(out.seg_logits.data.sum(0), torch.ones(64, 64))
    torch.testing.assert_close(out.seg_logits.data, plain / plain.sum(0, keepdim=True))


def test_slide_equals_whole_when_one_crop_covers_the_image():
    slide = tiny_segmentor(mode='slide')
    whole = tiny_segmentor(mode='whole')
    x = torch.randn(2, 3, 60, 50)
    a, b = slide.predict(x), whole.predict(x)
    for s, w in zip(a, b):
        assert torch.equal(s.pred_sem_seg.data, w.pred_sem_seg.data)
        torch.testing.assert_close(s.seg_logits.data, w.seg_logits.data)


def test_slide_averages_overlapping_windows():
    seg = tiny_segmentor(mode='slide')
    x = torch.randn(1, 3, 96, 64)
    emb = seg.class_embeddings()
    got = seg.image_logits([x[0]], emb)[0]
    top, bottom = seg.window_logits(x[:, :, :64], emb)[0], seg.window_logits(x[:, :, 32:], emb)[0]
    torch.testing.assert_close(got[:, :32], top[:, :32])
    torch.testing.assert_close(got[:, 32:64], (top[:, 32:] + bottom[:, :32]) / 2)
    torch.testing.assert_close(got[:, 64:], bottom[:, 32:])


def test_windows_are_batched_within_the_memory_bound():
    seg = tiny_segmentor(mode='slide', max_windows=5, keep_logits=False, band_bytes=2 ** 16)
    seg.backbone.forward = _recording(seg.backbone.forward, calls := [])
    out = seg.predict(torch.randn(2, 3, 160, 128))
    # 4×3 windows per image, 24 in all, at most 5 per forward
    assert sum(calls) == 24 and max(calls) <= 5 and len(calls) == 5
    assert out[0].pred_sem_seg.data.shape == (1, 160, 128) and 'seg_logits' not in out[0]


def _recording(fn, calls):
    def wrapped(x):
        calls.append(x.shape[0])
        return fn(x)
    return wrapped


def test_banded_stitching_matches_full_interpolation():
    from clipseg.models.segmentors.stitching import Window
    seg = tiny_segmentor(mode='whole', logit_scale=40.0, band_bytes=2 ** 12)
    emb = seg.class_embeddings()
    grid = torch.randn(3, 7, 9)
    image = torch.zeros(3, 100, 140)                 # a 7×9 patch grid, cropped to 100×140
    labels, probs, _ = seg.finish_image([Window((0, 0, 100, 140), grid)], image, (123, 77), emb)
    up = F.interpolate(grid[None], size=(112, 144), mode='bilinear', align_corners=False)[..., :100, :140]
    ref = F.interpolate(up, size=(123, 77), mode='bilinear', align_corners=False)[0]
    ref_probs = F.softmax(ref * 40.0, dim=0)
    torch.testing.assert_close(probs, ref_probs, atol=1e-5, rtol=1e-4)
    top2 = ref_probs.topk(2, dim=0).values
    differ = labels != ref_probs.argmax(0)
    assert ((top2[0] - top2[1])[differ] < 1e-5).all()


def test_resnet_segmentor_runs():
    seg = tiny_segmentor(model_cfg=TINY_RN, mode='slide')
    out = seg.predict(torch.randn(1, 3, 100, 130))
    assert out[0].pred_sem_seg.data.shape == (1, 100, 130)


def test_pamr_refinement_runs_and_keeps_shape():
    seg = tiny_segmentor(mode='whole', pamr_steps=2)
    out = seg.predict(torch.randn(1, 3, 64, 80))
    assert out[0].seg_logits.data.shape == (3, 64, 80)


def test_zero_shot_model_refuses_to_train():
    seg = tiny_segmentor()
    with pytest.raises(RuntimeError, match='training-free'):
        seg.loss(torch.randn(1, 3, 64, 64), [])


def test_no_classes_is_a_clear_error():
    seg = tiny_segmentor(classes=None)
    with pytest.raises(ValueError, match='no classes set'):
        seg.predict(torch.randn(1, 3, 64, 64))


@pytest.mark.parametrize('extra', [{}, {'area_thd': 0.5}, {'renormalize': True}])
def test_big_outputs_keep_class_scores_without_full_class_maps(extra):
    """Above ``max_logits_bytes`` no (K, H, W) map is kept; the (K,) mean probabilities are
    accumulated band by band and equal those of the full map, after SCLIP's area threshold
    and NACLIP's renormalisation as the stored map has them."""
    seg = tiny_segmentor(classes='cat,dog;puppy,car', band_bytes=4096, **extra)
    img = torch.randn(1, 3, 96, 130)
    full = seg.predict(img)[0]
    seg.test_cfg['max_logits_bytes'] = 1000
    small = seg.predict(img)[0]
    assert 'seg_logits' in full and 'seg_logits' not in small
    torch.testing.assert_close(small.class_scores, full.seg_logits.data.mean(dim=(1, 2)))
    torch.testing.assert_close(full.class_scores, small.class_scores)
    assert torch.equal(small.pred_sem_seg.data, full.pred_sem_seg.data)
    if 'area_thd' in extra:                             # the planted case drops a class
        assert (full.class_scores == 0).any()


@pytest.mark.parametrize('shape', [(2, 500), (500, 2), (3, 3)])
def test_thin_and_tiny_images_are_padded_to_one_patch(shape):
    """An image thinner than a patch is padded with zeros (the mean colour) to one patch, and
    the result covers exactly the image. The planted value makes each patch's mean over image +
    padding equal to class 2, so any other padding or a missing cut shows."""
    seg = tiny_segmentor(classes='cat,dog,car')
    h, w = min(shape[0], 16), min(shape[1], 16)
    img = planted(seg, torch.zeros(shape, dtype=torch.long))
    img[0, 0] = 2 * 256 / (h * w)
    out = seg.predict(img)[0].pred_sem_seg.data[0]
    assert out.shape == shape and (out == 2).all()
