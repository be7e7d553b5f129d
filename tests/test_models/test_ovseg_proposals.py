"""OVSeg's first stage: Swin's merge order converts exactly, the proposal scores are ensembled with
CLIP's as the authors' semantic_inference, the proposal stage trains, and a model with untrained
parts or a checkpoint without them is refused."""
import pytest
import torch
import torch.nn.functional as F

from clipseg.apis.detectron2_keys import swin_merge_order
from mmseg.registry import MODELS
from ..conftest import TINY_OVSEG_PROPOSALS, TINY_VIT_64

CLASSES = 'cat,dog,car,tree,sky'


def _ovseg(**kw):
    torch.manual_seed(0)
    kw.setdefault('allow_random_heads', True)
    return MODELS.build(dict(type='OVSegSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT_64),
                             proposals=TINY_OVSEG_PROPOSALS, mask_prompt_depth=1,
                             class_names=CLASSES, templates='a_photo_of', **kw)).eval()


def test_swin_patch_merging_converts_from_the_official_order():
    """Official Swin: cat(x[0::2,0::2], x[1::2,0::2], x[0::2,1::2], x[1::2,1::2]) → LN → Linear
    (ov-seg swin.py:356-368); mmseg's PatchMerging with the converted weights gives the same."""
    from mmseg.models.backbones.swin import PatchMerging
    torch.manual_seed(0)
    C, H, W = 8, 6, 10
    norm_w, norm_b = 1 + 0.1 * torch.randn(4 * C), 0.1 * torch.randn(4 * C)
    weight = torch.randn(2 * C, 4 * C) / (4 * C) ** 0.5
    x = torch.randn(1, H * W, C)
    grid = x.view(1, H, W, C)
    cat = torch.cat([grid[:, 0::2, 0::2], grid[:, 1::2, 0::2], grid[:, 0::2, 1::2], grid[:, 1::2, 1::2]], -1)
    want = F.linear(F.layer_norm(cat, (4 * C,), norm_w, norm_b), weight).view(1, -1, 2 * C)
    merge = PatchMerging(C, 2 * C)
    merge.norm.weight.data = swin_merge_order('s.downsample.norm.weight', norm_w, ())
    merge.norm.bias.data = swin_merge_order('s.downsample.norm.bias', norm_b, ())
    merge.reduction.weight.data = swin_merge_order('s.downsample.reduction.weight', weight, ())
    got, shape = merge(x, (H, W))
    assert shape == (H // 2, W // 2)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    merge.reduction.weight.data = weight                         # unconverted: wrong
    assert not torch.allclose(merge(x, (H, W))[0], want, atol=1e-2)


@pytest.mark.parametrize('weight', [0.7, 0.0])
def test_proposal_and_clip_scores_are_ensembled_as_the_authors(weight):
    """ov-seg ovseg_model.py:231-256, written out: softmax over classes + no-object, the no-object
    column dropped; CLIP's crop probabilities; p^(1-w)·p_clip^w (masks CLIP cannot crop keep
    p^(1-w)); w=0: CLIP's scores on its valid masks only; Σ_q p_q · sigmoid(m_q)."""
    model = _ovseg(test_cfg=dict(ensemble_weight=weight))
    with torch.no_grad():
        model.proposals.head.non_object_embedding.normal_()
    off = torch.zeros(10, 1, 1)
    off[:2] = -100                       # two proposals with no pixel above 0.4: CLIP cannot crop them
    model.proposals.register_forward_hook(lambda mod, args, out: (out[0] + off, out[1]))
    image = torch.rand(3, 70, 90) * 255
    emb = model.class_embeddings()
    with torch.no_grad():
        got = model.propose(image, emb)
        logits, queries = model.proposals(image)
        text = torch.cat([emb.queries, F.normalize(model.proposals.head.non_object_embedding, dim=-1)])
        mask_cls = F.softmax(100 * F.normalize(queries, dim=-1) @ text.T, dim=-1)[:, :-1]
        clip, valid = model.classify(image, logits.sigmoid(), emb)
    assert valid.tolist() == [False] * 2 + [True] * 8
    if weight:
        p_clip = torch.ones_like(mask_cls)
        p_clip[valid] = clip.T[valid]
        want = torch.einsum('qc,qhw->chw', mask_cls ** (1 - weight) * p_clip ** weight, logits.sigmoid())
    else:
        want = torch.einsum('qc,qhw->chw', clip.T[valid], logits.sigmoid()[valid])
    assert got.shape == (5, 70, 90)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_untrained_parts_are_refused_and_checkpoints_hold_only_them(tmp_path):
    model = _ovseg(allow_random_heads=False)
    with pytest.raises(RuntimeError, match='--random-heads'):
        model.predict(torch.rand(1, 3, 64, 64) * 255)
    state = model.state_dict()
    assert set(k.split('.')[0] for k in state) == {'image_encoder', 'proposals'}
    assert not any(k.startswith(('image_encoder.visual', 'text_encoder')) for k in state)
    other = _ovseg(allow_random_heads=False)
    other.load_state_dict(state)
    assert other.parts_ready
    torch.testing.assert_close(other.proposals.head.query_embed.weight, model.proposals.head.query_embed.weight)
    partial = {k: v for k, v in state.items() if not k.startswith('proposals.head.')}
    with pytest.raises(ValueError, match='missing keys'):
        _ovseg(allow_random_heads=False).load_state_dict(partial)


def test_proposal_stage_trains_on_text_classes_and_clip_stays_frozen():
    model = _ovseg(train_parts=('proposals',)).train()
    gt = torch.full((1, 64, 96), 255, dtype=torch.long)
    gt[0, 8:40, 10:50], gt[0, 30:60, 60:90] = 1, 3
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt), metainfo=dict(img_shape=(64, 96)))
    losses = model.loss(torch.rand(1, 3, 64, 96) * 255, [sample])
    assert {'loss_cls', 'loss_mask', 'loss_dice'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss') or '.loss_' in k)
    total.backward()
    assert model.proposals.head.cls_embed[0].weight.grad is not None
    assert model.proposals.head.non_object_embedding.grad is not None
    assert model.image_encoder.mask_embedding.grad is None             # prompts not in train_parts
    assert all(p.grad is None for p in model.text_encoder.parameters())
    with pytest.raises(ValueError, match='train_parts'):
        _ovseg(train_parts=('backbone',))
