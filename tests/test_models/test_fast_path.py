"""The batched, banded inference path gives the label maps of the straightforward one:
windows one at a time at batch 1, full-resolution upsampling and soft-max (SCLIP's reference)."""
import pytest
import torch
import torch.nn.functional as F

from clipseg.models.segmentors.windows import slide_windows
from ..conftest import tiny_segmentor


def reference_predict(seg, img, ori_shape):
    """(1, 3, H, W) → (H_ori, W_ori) labels, the reference way."""
    cfg, emb = seg.test_cfg, seg.class_embeddings()
    H, W = img.shape[-2:]
    preds = img.new_zeros((1, emb.queries.shape[0], H, W))
    count = img.new_zeros((1, 1, H, W))
    for y1, x1, y2, x2 in slide_windows(H, W, cfg['crop_size'], cfg['stride']):
        crop = img[:, :, y1:y2, x1:x2]
        feats = F.normalize(seg.backbone(crop)[-1], dim=1)
        logits = torch.einsum('ndhw,qd->nqhw', feats, emb.queries)
        logits = F.interpolate(logits, size=crop.shape[-2:], mode='bilinear', align_corners=False)
        preds += F.pad(logits, (x1, W - x2, y1, H - y2))
        count[:, :, y1:y2, x1:x2] += 1
    logits = F.interpolate(preds / count, size=ori_shape, mode='bilinear', align_corners=False)[0]
    probs = F.softmax(logits * cfg['logit_scale'], dim=0)
    return probs.argmax(0), probs


@pytest.mark.parametrize('classes', [16, 60])
def test_fast_path_equals_reference(classes):
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(classes)], mode='slide',
                         max_windows=3, band_bytes=2 ** 14, logit_scale=40.0)
    img = torch.randn(1, 3, 112, 144)
    ori = (200, 260)
    want, probs = reference_predict(seg, img, ori)
    got = seg.predict(img, [_sample(img, ori)])[0].pred_sem_seg.data[0]
    top2 = probs.topk(2, dim=0).values
    differ = got != want
    assert differ.float().mean() < 1e-3
    assert ((top2[0] - top2[1])[differ] < 1e-4).all()  # only floating-point ties


def _sample(img, ori):
    from mmseg.structures import SegDataSample
    s = SegDataSample()
    s.set_metainfo(dict(img_shape=tuple(img.shape[-2:]), ori_shape=ori))
    return s


def test_labels_only_shortcut_equals_probabilities_path():
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(7)], mode='slide')
    img = torch.randn(1, 3, 96, 112)
    full = seg.predict(img)[0].pred_sem_seg.data
    seg.test_cfg['keep_logits'] = False
    fast = seg.predict(img)[0]
    assert 'seg_logits' not in fast
    assert (fast.pred_sem_seg.data != full).float().mean() < 1e-3


def reference_window(seg, crop, emb, pad, p=16):
    """One window's (1, Q, H, W) logits the authors' ways, on inputs already a multiple of p:
    'drop' = SCLIP/NACLIP (leftover pixels dropped, logits stretched), 'even' = ClearCLIP
    (even padding, cut back), 'corner' (bottom/right padding, cut back), 'corner_stretch' =
    MaskCLIP's mmseg code (bottom/right padding in the backbone, the padded grid resized to the
    unpadded window: their encoder_decoder.py:72-82)."""
    H, W = crop.shape[-2:]

    def logits_of(x):
        feats = F.normalize(seg.backbone(x)[-1], dim=1)
        return torch.einsum('ndhw,qd->nqhw', feats, emb.queries)
    if pad == 'drop':
        x = crop[..., :H - H % p, :W - W % p]
        return F.interpolate(logits_of(x), size=(H, W), mode='bilinear', align_corners=False)
    dh, dw = (-H) % p, (-W) % p
    t, left = (dh // 2, dw // 2) if pad == 'even' else (0, 0)
    x = F.pad(crop, (left, dw - left, t, dh - t))
    if pad == 'corner_stretch':
        return F.interpolate(logits_of(x), size=(H, W), mode='bilinear', align_corners=False)
    up = F.interpolate(logits_of(x), size=x.shape[-2:], mode='bilinear', align_corners=False)
    return up[..., t:t + H, left:left + W]


@pytest.mark.parametrize('pad', ['corner', 'corner_stretch', 'even', 'drop'])
def test_pad_modes_equal_the_authors_formulations(pad):
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(5)], mode='slide',
                         crop_size=(56, 56), stride=(28, 28), logit_scale=40.0)
    emb = seg.class_embeddings()
    img = torch.randn(1, 3, 100, 124)                  # windows of 56: not a multiple of 16
    H, W = img.shape[-2:]
    preds, count = img.new_zeros((1, 5, H, W)), img.new_zeros((1, 1, H, W))
    for y1, x1, y2, x2 in slide_windows(H, W, (56, 56), (28, 28)):
        preds += F.pad(reference_window(seg, img[..., y1:y2, x1:x2], emb, pad), (x1, W - x2, y1, H - y2))
        count[..., y1:y2, x1:x2] += 1
    want = F.interpolate(preds / count, size=(150, 170), mode='bilinear', align_corners=False)[0]
    seg.backbone.pad = pad
    got = seg.predict(img, [_sample(img, (150, 170))])[0].seg_logits.data
    torch.testing.assert_close(got, F.softmax(want * 40.0, dim=0), atol=1e-5, rtol=1e-4)
    if pad != 'corner':                                 # the modes really differ
        seg.backbone.pad = 'corner'
        other = seg.predict(img, [_sample(img, (150, 170))])[0].seg_logits.data
        assert (other - got).abs().max() > 1e-3
