import numpy as np
import pytest
import torch
import torch.nn.functional as F

from clipseg.models.segmentors.dinoiser import correlation_pool
from clipseg.models.teachers import DINOOutput, DINOTeacher, FOUNDBackground
from ..conftest import TINY_DINO, tiny_dinoiser


def block_corr(h, w, split):
    """(1, h*w, h, w) correlations: 1 within the left (columns < split) or right block, else 0."""
    side = (torch.arange(w) >= split).repeat(h)
    corr = (side[:, None] == side[None, :]).float()
    return corr.reshape(1, h * w, h, w)


def test_pooling_is_constant_inside_each_block():
    torch.manual_seed(0)
    dense = torch.randn(1, 8, 4, 6)
    pooled = correlation_pool(dense, block_corr(4, 6, 2), gamma=0.2)
    left, right = pooled[..., :2], pooled[..., 2:]
    torch.testing.assert_close(left, dense[..., :2].mean(dim=(2, 3), keepdim=True).expand_as(left), atol=1e-5, rtol=0)
    torch.testing.assert_close(right, dense[..., 2:].mean(dim=(2, 3), keepdim=True).expand_as(right), atol=1e-5, rtol=0)


def test_threshold_drops_weak_correlations():
    dense = torch.randn(1, 4, 2, 2)
    corr = torch.full((1, 4, 2, 2), 0.1)          # all below γ = 0.2 except self
    corr.view(1, 4, 4)[:, range(4), range(4)] = 1.0
    torch.testing.assert_close(correlation_pool(dense, corr, 0.2), dense, atol=1e-5, rtol=0)


def test_label_map_follows_the_blocks():
    seg = tiny_dinoiser(classes='cat,dog', test_cfg=dict(mode='whole'))
    emb = seg.class_embeddings().queries                     # (2, 32)
    h, w = 4, 6
    noise = torch.randn(32, h, w) * 3
    noise[:, :, :2] -= noise[:, :, :2].mean(dim=(1, 2), keepdim=True)
    noise[:, :, 2:] -= noise[:, :, 2:].mean(dim=(1, 2), keepdim=True)
    dense = torch.where(torch.arange(w) < 2, emb[0].view(-1, 1, 1), emb[1].view(-1, 1, 1)) + noise
    seg.backbone.forward = lambda x: (torch.zeros(1, 64, h, w), dense[None])
    seg.heads = lambda mid: (block_corr(h, w, 2), torch.zeros(1, 1, h, w))
    probs = seg.window_logits(torch.zeros(1, 3, 64, 96), seg.class_embeddings())
    labels = probs.argmax(dim=1)[0]
    assert (labels[:, :32] == 0).all() and (labels[:, 32:] == 1).all()
    # without pooling the noise wins somewhere: the test can fail
    raw = torch.einsum('dhw,qd->qhw', F.normalize(dense, dim=0), emb).argmax(0)
    assert (raw != torch.where(torch.arange(w) < 2, 0, 1)).any()


def test_background_refinement_needs_uncertainty_and_background_head():
    seg = tiny_dinoiser(classes='background,cat', apply_background=True, test_cfg=dict(mode='whole'))
    emb = seg.class_embeddings().queries
    h, w = 2, 2
    dense = ((emb[0] + emb[1]) / 2).view(1, -1, 1, 1).expand(1, -1, h, w)  # uncertain everywhere
    seg.backbone.forward = lambda x: (torch.zeros(1, 64, h, w), dense)
    bkg = torch.tensor([[[[5.0, -5.0], [5.0, -5.0]]]])          # right column: background
    seg.heads = lambda mid: (torch.eye(4).reshape(1, 4, h, w), bkg)
    seg.test_cfg['bg_idx'] = 0
    probs = seg.window_logits(torch.zeros(1, 3, 32, 32), seg.class_embeddings())
    assert torch.allclose(probs[0, 0, :, 24:], torch.ones(32, 8))
    assert (probs[0, 0, :, :8] < 0.99).all()


def test_found_teacher_marks_planted_object_foreground():
    h, w, C = 4, 4, 8
    keys = torch.zeros(1, C, h, w)
    keys[:, 0] = 1.0                                          # background patches share one key
    keys[:, 1, 1:3, 1:3], keys[:, 0, 1:3, 1:3] = 1.0, 0.0     # the object's 2×2 patches differ
    cls_attn = torch.full((1, 2, h * w), 0.1)
    cls_attn[:, :, 0] = 0.01                                  # least attended: a corner (background)
    cls_attn[:, :, 5] = 0.5
    out = FOUNDBackground(tau=0.3)(DINOOutput(keys, keys, cls_attn))
    want = torch.zeros(h, w)
    want[1:3, 1:3] = 1
    assert torch.equal(out[0, 0], want)


def test_dino_teacher_shapes_and_unit_correlations():
    dino = DINOTeacher(**TINY_DINO)
    out = dino(torch.randn(2, 3, 64, 48))
    assert out.feats.shape == (2, 32, 4, 3) and out.cls_attn.shape == (2, 2, 12)
    corr = dino.correlations(out.feats)
    assert corr.shape == (2, 12, 4, 3)
    torch.testing.assert_close(corr.flatten(2).diagonal(dim1=1, dim2=2), torch.ones(2, 12))


def test_training_lowers_loss_and_checkpoint_reloads_identically():
    torch.manual_seed(0)
    seg = tiny_dinoiser()
    imgs = torch.randn(4, 3, 64, 64)
    imgs[:, :, 16:48, 16:48] += 2.0
    assert {n.split('.')[0] for n, p in seg.named_parameters() if p.requires_grad} == {'obj_proj', 'bkg_decoder'}
    opt = torch.optim.AdamW([{'params': seg.obj_proj.parameters(), 'lr': 1e-2},
                             {'params': seg.bkg_decoder.parameters(), 'lr': 1e-2}])
    seg.train()
    losses = []
    for _ in range(25):
        loss = sum(seg.loss(imgs).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
    seg.eval()
    state = seg.state_dict()
    assert set(state) == {'obj_proj.weight', 'obj_proj.bias', 'bkg_decoder.weight', 'bkg_decoder.bias'}
    fresh = tiny_dinoiser()
    fresh.load_state_dict(state, strict=True)
    x = torch.randn(1, 3, 80, 96)
    a, b = seg.predict(x)[0], fresh.predict(x)[0]
    assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
    torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)


def test_one_clip_forward_per_window():
    seg = tiny_dinoiser(test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(32, 32), max_windows=64))
    calls = []
    seg.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    seg.predict(torch.randn(1, 3, 96, 96))
    assert calls == [4]


def test_scores_are_probabilities_not_probabilities_of_probabilities():
    """A patch the head is certain about reads ~1, whatever the number of classes."""
    import clipseg
    seg = tiny_dinoiser(classes='background,cat,dog,car', test_cfg=dict(mode='whole')).eval()
    assert seg.grid_output == 'probabilities'

    def certain(crops, emb):
        out = torch.zeros(crops.shape[0], emb.queries.shape[0], *[s // 16 for s in crops.shape[-2:]])
        out[:, 2] = 0.999
        out[:, [0, 1, 3]] = 0.001 / 3
        return out
    seg.grid_logits = certain
    probs = seg.predict(torch.randn(1, 3, 64, 64))[0].seg_logits.data
    assert probs[2].min() > 0.99 and probs[[0, 1, 3]].max() < 0.01
    seg.cfg = clipseg.apis.inference.find_config('dinoiser_vit-b16_laion2b_slide448')
    res = clipseg.segment(seg, np.zeros((64, 64, 3), np.uint8))
    assert res['class_scores'][2] > 0.99
