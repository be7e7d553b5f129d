"""Trident against a written-out reference of the authors' computation, on identical random
weights (tiny CLIP, DINO and SAM)."""
import cv2
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models.segmentors.trident import fit_to_stride, sam_affinity
from mmseg.registry import MODELS
from ..conftest import TINY_PROXY, TINY_SAM_MODEL, TINY_VIT, photo_batch, write_tiny_config
from .references import trident as ref

TINY_DINO16 = dict(TINY_PROXY, model_name='vit_base_patch16_224.dino')


def _tiny_config(tmp_path, base, **test_cfg):
    return write_tiny_config(tmp_path, base, extra=(
        f"proxy=dict(_delete_=True, **{TINY_DINO16!r}), "
        f"sam=dict(_delete_=True, **{TINY_SAM_MODEL!r}), test_cfg={test_cfg!r}"))


@pytest.mark.parametrize('refine', [False, True])
def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini, refine):
    """The shipped VOC21 config (short side 448, 336/224 windows, prob_thd 0.2, SAM reading the
    photo file) on a voc_mini photo: scores, probabilities and labels as the reference; with the
    refinement on (every SAM mask kept: random weights predict low IoUs) the labels too."""
    extra = dict(sam_iou_thresh=-1e9, minimal_area=16, prob_thd=0.0, coarse_thresh=0.01) if refine \
        else dict(sam_refine=False)
    thd = 0.0 if refine else 0.2
    cfg = _tiny_config(tmp_path, 'configs/trident/trident_vit-b16_openai_dino-b16_sam-b_slide336_voc21.py',
                       **extra)
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    inputs, samples = photo_batch(model, photo)
    out = model.predict(inputs, samples)[0]
    emb = model.class_embeddings()
    rgb = cv2.cvtColor(cv2.imread(str(photo)), cv2.COLOR_BGR2RGB)
    ori = rgb.shape[:2]
    with torch.no_grad():
        logits = ref.trident_logits(model.backbone.visual, model.backbone.proxy.vit, model.sam,
                                    inputs, rgb, emb.queries.float(), ori)
        ours = model.encode_decode(inputs, [samples[0].metainfo])[0]
    torch.testing.assert_close(ours, logits, atol=1e-4, rtol=1e-4)
    p = F.softmax(logits * 40.0, dim=0)
    probs = torch.stack([p[emb.query_class == c].max(0).values for c in range(21)])
    labels = probs.argmax(0)
    labels[probs.max(0).values < thd] = 0
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-4, rtol=1e-4)
    if refine:   # the reference refines our own scores: region shapes must not hinge on 1e-5 noise
        ours_probs = out.seg_logits.data
        with torch.no_grad():
            model.predictor.set_image(cv2.resize(rgb, (-(-ori[1] // 16) * 16, -(-ori[0] // 16) * 16)))
            refined = ref.refine(model.predictor, ori, ours_probs.argmax(0), ours_probs, 0.01,
                                 minimal_area=16, iou=-1e9)
        assert (refined != ours_probs.argmax(0)).any()              # the refinement really acted
        assert torch.equal(out.pred_sem_seg.data[0], refined)
    else:
        assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999


def test_sam_affinity_keeps_pairs_whose_values_agree():
    values = torch.tensor([[[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]])             # 1 head, 3 tokens
    attn = torch.full((1, 3, 3), 1 / 3)
    a = sam_affinity(attn, values, cos_fac=1.2, refine_neg_cos=True)
    assert a[0, 2] == 0 and a[2, 0] == 0 and a[2, 2] == 1                     # token 2 alone
    torch.testing.assert_close(a.sum(-1), torch.ones(3))
    x = torch.zeros(1, 3, 100, 130)
    assert fit_to_stride(x, 16, 336).shape[-2:] == (336, 336)
    assert fit_to_stride(torch.zeros(1, 3, 448, 597), 16, 336).shape[-2:] == (464, 608)   # theirs


def test_trident_needs_its_parts(monkeypatch):
    import sys
    base = dict(type='TridentSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                backbone_cfg=dict(pad='drop'))
    with pytest.raises(ValueError, match='set model.proxy'):
        MODELS.build(dict(base, sam=TINY_SAM_MODEL))
    with pytest.raises(clipseg.models.WeightsUnavailableError, match='model.sam.checkpoint'):
        MODELS.build(dict(base, proxy=TINY_DINO16, sam=dict(variant='vit_b')))
    monkeypatch.setitem(sys.modules, 'segment_anything', None)
    with pytest.raises(ImportError, match=r'clipseg\[sam\]'):
        MODELS.build(dict(base, proxy=TINY_DINO16, sam=TINY_SAM_MODEL))
