import numpy as np
import pytest
import torch
import torch.nn.functional as F

from clipseg.models.heads.dinoiser_head import correlation_pool
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
    seg.decode_head.priors = lambda mid: (block_corr(h, w, 2), torch.zeros(1, 1, h, w))
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
    seg.decode_head.priors = lambda mid: (torch.eye(4).reshape(1, 4, h, w), bkg)
    seg.test_cfg['bg_idx'] = 0
    probs = seg.window_logits(torch.zeros(1, 3, 32, 32), seg.class_embeddings())
    assert torch.allclose(probs[0, 0, :, 24:], torch.ones(32, 8))
    assert (probs[0, 0, :, :8] < 0.99).all()


def reference_found(cls_attn, raw_keys, tau):
    """FOUND's compute_img_bkg_seg written out plainly, one image and one head at a time."""
    B, C, h, w = raw_keys.shape
    heads = cls_attn.shape[1]
    out = torch.zeros(B, 1, h, w)
    for b in range(B):
        mean = cls_attn[b].mean()
        Q = [(cls_attn[b, i] > mean).float().mean() + 1e-10 for i in range(heads)]
        beta = [torch.log(sum(Q) / q) for q in Q]
        d = C // heads
        desc = torch.cat([raw_keys[b, i * d:(i + 1) * d].reshape(d, -1) * beta[i] for i in range(heads)])
        desc = desc / desc.norm(dim=0, keepdim=True)
        seed = sum(cls_attn[b, i] * beta[i] for i in range(heads)).argmin()
        out[b, 0] = ((desc[:, seed] @ desc) > tau).float().reshape(h, w)
    return out


def test_found_training_free_rule_is_founds():
    from clipseg.models.teachers.found_teacher import found_background
    h, w, heads, d = 4, 4, 2, 4
    keys = torch.zeros(1, heads * d, h, w)
    keys[:, 0], keys[:, d] = 1.0, 1.0                                    # background keys
    keys[:, 1, 1:3, 1:3], keys[:, 0, 1:3, 1:3] = 1.0, 0.0                # the object's 2×2 patches
    keys[:, d + 1, 1:3, 1:3], keys[:, d, 1:3, 1:3] = 1.0, 0.0
    keys = keys + 0.05 * torch.randn_like(keys)
    cls_attn = torch.full((1, heads, h * w), 0.05)
    cls_attn[:, 0, [5, 6, 9, 10]] = 0.3                                  # head 0 looks at the object
    cls_attn[:, 1] = torch.rand(h * w) * 0.1
    cls_attn[:, :, 15] = 0.001                                           # least attended: a corner
    got = FOUNDBackground(tau=0.3)(DINOOutput(keys, keys, cls_attn, keys))
    want = torch.zeros(h, w)
    want[1:3, 1:3] = 1
    assert torch.equal(got[0, 0], want)
    torch.manual_seed(0)
    attn, raw = torch.rand(3, 6, 35), torch.randn(3, 6 * 8, 5, 7)
    assert torch.equal(found_background(attn, raw, 0.3), reference_found(attn, raw, 0.3))


def test_found_decoder_file_loads_384_d_and_bad_files_are_errors(tmp_path):
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(384, 1, 1)
    torch.save({'decoder': conv.state_dict()}, tmp_path / 'decoder_weights.pt')   # FOUND's format
    found = FOUNDBackground(head=str(tmp_path / 'decoder_weights.pt'))
    raw = torch.randn(2, 384, 6, 5)
    out = found(DINOOutput(raw, raw, torch.rand(2, 6, 30), raw))
    torch.testing.assert_close(out, torch.sigmoid(conv(raw)))
    with pytest.raises(FileNotFoundError, match="FOUND decoder weights not found: '.*missing.pt'"):
        FOUNDBackground(head=str(tmp_path / 'missing.pt'))
    torch.save({'decoder': torch.nn.Conv2d(768, 1, 1).state_dict()}, tmp_path / 'b16.pt')
    with pytest.raises(ValueError, match='not a FOUND decoder for 384-d keys'):
        FOUNDBackground(head=str(tmp_path / 'b16.pt'))


def test_dino_positions_are_resized_as_dino_does():
    from clipseg.models.backbones.clip_vit import resize_pos_embed
    dino = DINOTeacher(**TINY_DINO)
    patches = torch.randn(2, 5, 3, 32)                                   # (B, h, w, C)
    got = dino.vit._pos_embed(patches)
    pos = dino.vit.pos_embed[0]
    side = int((pos.shape[0] - 1) ** 0.5)
    grid = pos[1:].reshape(1, side, side, 32).permute(0, 3, 1, 2)
    ref = F.interpolate(grid, scale_factor=(5.1 / side, 3.1 / side), mode='bicubic')
    tokens = torch.cat([dino.vit.cls_token.expand(2, -1, -1), patches.reshape(2, 15, 32)], dim=1)
    want = tokens + torch.cat([pos[:1], ref.permute(0, 2, 3, 1).reshape(15, 32)])
    torch.testing.assert_close(got, want)
    assert torch.equal(resize_pos_embed(pos, (side, side), (5, 3), 'dino'),
                       torch.cat([pos[:1], ref.permute(0, 2, 3, 1).reshape(15, 32)]))


def test_training_step_with_founds_own_vit_s8_and_decoder(tmp_path):
    """The paper's teachers on tiny random models: DINO correlations on a /16 ViT, FOUND's decoder
    on a /8 ViT's raw keys, its map resized bilinearly to the CLIP grid and thresholded at 0.5."""
    small8 = dict(model_name='vit_small_patch8_224.dino', pretrained=False,
                  model_kwargs=dict(embed_dim=32, depth=2, num_heads=2))
    torch.manual_seed(0)
    torch.save({'decoder': torch.nn.Conv2d(32, 1, 1).state_dict()}, tmp_path / 'dec.pt')
    seg = tiny_dinoiser(background_teacher=dict(dino=small8, head=str(tmp_path / 'dec.pt'),
                                                in_channels=32))
    imgs = torch.randn(2, 3, 64, 64)
    corr, fg = seg.teacher_targets(imgs)
    assert corr.shape == (2, 16, 4, 4) and fg.shape == (2, 1, 8, 8)       # FOUND on the /8 grid
    assert ((fg > 0) & (fg < 1)).any()                                    # a soft decoder map
    captured = {}
    orig = F.binary_cross_entropy_with_logits
    F.binary_cross_entropy_with_logits = lambda x, t: captured.setdefault(x.shape[1], t) is None or orig(x, t)
    try:
        torch.manual_seed(3)
        seg.train()
        seg.loss(imgs)
    finally:
        F.binary_cross_entropy_with_logits = orig
    want = (F.interpolate(fg, size=(4, 4), mode='bilinear', align_corners=False, antialias=True) > 0.5).float()
    assert torch.equal(captured[1], want)
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
    trainable = [n.split('.')[:2] for n, p in seg.named_parameters() if p.requires_grad]
    assert {part for slot, part in trainable if slot == 'decode_head'} == {'obj_proj', 'bkg_decoder'}
    assert {slot for slot, _ in trainable} == {'decode_head'}
    opt = torch.optim.AdamW([{'params': seg.decode_head.obj_proj.parameters(), 'lr': 1e-2},
                             {'params': seg.decode_head.bkg_decoder.parameters(), 'lr': 1e-2}])
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
    assert seg.decode_head.returns == 'probabilities'

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
