import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from clipseg.models import ContextDecoder
from clipseg.models.clip.loader import create_clip
from clipseg.models.text.context_encoder import ContextTextEncoder, pixel_text_scores
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..conftest import TINY_RN, TINY_VIT

TINY_VIT4 = dict(TINY_VIT, vision_cfg=dict(TINY_VIT['vision_cfg'], layers=4))
CLASSES = ['background', 'red circle', 'blue square']


def denseclip(arch='rn'):
    torch.manual_seed(0)
    if arch == 'rn':
        cfg, backbone, idx, inch = TINY_RN, dict(type='CLIPResNet'), 3, [64, 128, 256, 512]
    else:
        cfg, backbone, idx, inch = TINY_VIT4, dict(type='CLIPViT', out_indices=(0, 1, 2, 3)), 2, [64] * 4
    return MODELS.build(dict(
        type='DenseCLIP', clip=dict(model_name='t', model_cfg=cfg), class_names=CLASSES,
        backbone=backbone,
        decode_head=dict(type='DenseCLIPHead', neck=dict(in_channels=inch, out_channels=16, num_outs=4),
                         score_concat_index=idx, in_channels=[16] * 4, in_index=[0, 1, 2, 3],
                         feature_strides=[4, 8, 16, 32], channels=16, dropout_ratio=0.1)))


def samples(n, size):
    out = []
    for _ in range(n):
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.randint(0, len(CLASSES), (1, size, size)))
        s.set_metainfo(dict(img_shape=(size, size), ori_shape=(size, size), pad_shape=(size, size)))
        out.append(s)
    return out


@pytest.mark.parametrize('arch', ['rn', 'vit'])
def test_shapes_and_only_intended_parameters_get_gradients(arch):
    model = denseclip(arch).train()
    x = torch.randn(2, 3, 64, 64)
    feats = model.backbone(x)
    strides = [64 // f.shape[-1] for f in feats[:4]]
    assert strides == [4, 8, 16, 32]
    global_feat, dense = feats[4]
    assert global_feat.shape == (2, 32) and dense.shape[:2] == (2, 32)
    losses = model.loss(x, samples(2, 64))
    assert {'decode.loss_ce', 'decode.loss_identity'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    head = model.decode_head
    frozen = [p for m in (head.prompt.token_embedding, head.prompt.transformer, head.prompt.ln_final)
              for p in m.parameters()] + [head.prompt.text_projection]
    assert all(p.grad is None for p in frozen)
    assert head.prompt.contexts.grad is not None and head.prompt.contexts.grad.abs().sum() > 0
    assert head.context_decoder.gamma.grad is not None
    assert all(p.grad is not None for p in head.conv_seg.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.backbone.parameters())
    out = model.eval().predict(x, samples(2, 64))
    assert out[0].pred_sem_seg.data.shape == (1, 64, 64)


def test_score_map_is_cosine_similarity():
    torch.manual_seed(0)
    visual, text = torch.randn(2, 8, 3, 5), torch.randn(2, 4, 8)
    got = pixel_text_scores(visual, text)
    for b in range(2):
        for k in range(4):
            for i in range(3):
                for j in range(5):
                    want = F.cosine_similarity(visual[b, :, i, j], text[b, k], dim=0)
                    assert got[b, k, i, j].item() == pytest.approx(want.item(), abs=1e-6)


def test_context_decoder_with_zero_gamma_is_identity():
    dec = ContextDecoder(visual_dim=32, width=16, heads=2, layers=3)
    text, visual = torch.randn(2, 5, 32), torch.randn(2, 10, 32)
    with torch.no_grad():
        dec.gamma.zero_()
    assert torch.equal(dec(text, visual), text)
    with torch.no_grad():
        dec.gamma.fill_(1.0)
    assert not torch.allclose(dec(text, visual), text)


def test_gamma_starts_at_1e_4():
    assert torch.allclose(ContextDecoder(visual_dim=8, width=8, heads=2).gamma, torch.full((8,), 1e-4))


def test_context_prompt_matches_manual_sequence():
    """With contexts equal to real token embeddings, the prompt equals CLIP encoding that text."""
    torch.manual_seed(0)
    model, tok = create_clip('t', model_cfg=TINY_VIT)
    enc = ContextTextEncoder(model, tok, ['cat'], n_ctx=2, name_length=5)
    words = tok(['a photo cat'])[0]               # SOT a photo cat EOT: the raw name, as DenseCLIP
    with torch.no_grad():
        enc.contexts.copy_(model.token_embedding(words[1:3])[None])
        got = enc()
        full = model.encode_text(tok(['a photo cat']))   # causal: padding after EOT is unseen
    torch.testing.assert_close(got, full, atol=1e-5, rtol=1e-5)


def test_stock_mmseg_encoder_decoder_uses_the_head(tmp_path):
    from mmengine.config import Config
    cfg = tmp_path / 'stock.py'
    inch = [64, 128, 256, 512]
    cfg.write_text(
        "custom_imports = dict(imports=['clipseg'], allow_failed_imports=False)\n"
        "norm_cfg = dict(type='BN', requires_grad=True)\n"
        "model = dict(type='EncoderDecoder',\n"
        "    data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),\n"
        f"    backbone=dict(type='CLIPResNet', model_name='t', model_cfg={TINY_RN!r}, attention='vanilla',\n"
        "                  out_indices=(0, 1, 2, 3), with_global=True, frozen=False),\n"
        f"    decode_head=dict(type='DenseCLIPHead', clip=dict(model_name='t', model_cfg={TINY_RN!r}),\n"
        f"        class_names={CLASSES!r}, num_classes=3, neck=dict(in_channels={inch!r}, out_channels=16,\n"
        "        num_outs=4), in_channels=[16] * 4, in_index=[0, 1, 2, 3], feature_strides=[4, 8, 16, 32],\n"
        "        channels=16, norm_cfg=norm_cfg),\n"
        "    train_cfg=dict(), test_cfg=dict(mode='whole'))\n")
    from mmseg.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64), dtype=torch.uint8)] * 2,
                data_samples=samples(2, 64))
    losses = model.train_step(data, _optim(model))
    assert losses['decode.loss_identity'] > 0


def _optim(model):
    from mmengine.optim import OptimWrapper
    return OptimWrapper(torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01))


# ----- the authors' code, item by item (raoyongming/DenseCLIP segmentation/denseclip/) ----------
def test_prompt_tokens_are_the_raw_name_and_too_long_is_an_error():
    from clipseg.models.text.context_encoder import name_tokens
    _, tok = create_clip('t', model_cfg=TINY_VIT)
    got = name_tokens(tok, ['red circle'], 5)
    want = [tok.sot_token_id, *tok.encode('red circle'), tok.eot_token_id]
    assert got[0].tolist() == want + [0] * (5 - len(want))
    with pytest.raises(ValueError, match="'chest of many drawers' takes 6 tokens"):
        name_tokens(tok, ['cat', 'chest of many drawers'], 5)


def test_context_init_is_trunc_normal_with_std_1():
    torch.manual_seed(0)
    model, tok = create_clip('t', model_cfg=dict(TINY_VIT, text_cfg=dict(TINY_VIT['text_cfg'], width=512)))
    ctx = ContextTextEncoder(model, tok, ['cat'], n_ctx=8).contexts
    assert ctx.abs().max() <= 2.0 and 0.8 < ctx.std() < 0.95   # N(0, 1) cut at ±2: std 0.88


def test_context_decoder_attention_has_no_qkv_bias_and_trunc_normal_weights():
    torch.manual_seed(0)
    dec = ContextDecoder(visual_dim=64, width=256, heads=4)
    names = {n for n, _ in dec.named_parameters()}
    assert not any('in_proj' in n for n in names)
    for attn in (dec.layers[0].self_attn, dec.layers[0].cross_attn):
        assert attn.q_proj.bias is None and attn.k_proj.bias is None and attn.v_proj.bias is None
        assert attn.proj.bias is not None and (attn.proj.bias == 0).all()
        w = torch.cat([attn.q_proj.weight.flatten(), attn.k_proj.weight.flatten()])
        assert 0.018 < w.std() < 0.022                     # trunc_normal_(std=.02), cut at ±2


def test_identity_loss_is_the_mean_over_all_pixels():
    model = denseclip('rn').train()
    x = torch.randn(2, 3, 64, 64)
    data = samples(2, 64)
    for s in data:
        s.gt_sem_seg.data[:, :, 32:] = 255                  # half the pixels unlabelled
    torch.manual_seed(1)
    feats = model.extract_feat(x)
    head = model.decode_head
    _, scores = head._forward(feats)
    gt = torch.stack([s.gt_sem_seg.data[0] for s in data])
    up = F.interpolate(scores / head.tau, size=(64, 64), mode='bilinear', align_corners=False)
    labelled_mean = F.cross_entropy(up, gt, ignore_index=255)
    torch.manual_seed(1)
    loss = head.loss(feats, data, None)['loss_identity']
    torch.testing.assert_close(loss, 0.4 * labelled_mean * 0.5, rtol=1e-4, atol=1e-6)


def test_resnet_attnpool_grid_is_resized_once_bilinearly_and_trained():
    from clipseg.models import CLIPResNet
    torch.manual_seed(0)
    plain = create_clip('t', model_cfg=TINY_RN)[0].visual
    old = plain.attnpool.positional_embedding.detach().clone()          # 2x2 + 1 for 64 px
    with pytest.raises(TypeError, match='applied when the tower is built'):
        CLIPResNet(visual=plain, attention='vanilla', pos_grid=4)     # adapters never resize it
    torch.manual_seed(0)
    visual = create_clip('t', model_cfg=TINY_RN, pos_grid=4)[0].visual   # the same weights, built at 4x4
    rn = CLIPResNet(visual=visual, attention='vanilla', pos_grid=4, pos_resize='bilinear', frozen=False)
    pos = rn.visual.attnpool.positional_embedding
    assert pos.shape == (17, old.shape[1]) and pos.requires_grad
    side = int((old.shape[0] - 1) ** 0.5)
    want = F.interpolate(old[1:].reshape(1, side, side, -1).permute(0, 3, 1, 2), size=(4, 4),
                         mode='bilinear', align_corners=False)
    torch.testing.assert_close(pos[1:], want.permute(0, 2, 3, 1).reshape(16, -1))
    torch.testing.assert_close(pos[:1], old[:1])


def test_vit_levels_branches_drop_path_and_class_embedding_option():
    from clipseg.models import CLIPViT
    from torch import nn
    torch.manual_seed(0)
    vit = CLIPViT('t', model_cfg=TINY_VIT4, attention='vanilla', out_indices=(0, 1, 2, 3),
                  multiscale=True, frozen=False, pos_grid=8, pos_resize='bilinear', drop_path_rate=0.5)
    ms = vit.multiscale
    assert all(isinstance(m, nn.GroupNorm) for m in (ms[0][0], ms[1][0], ms[2], ms[3][0]))
    assert vit.visual.positional_embedding.shape[0] == 65 and vit.drop_rates[-1] == 0.5
    x = torch.randn(1, 3, 64, 64)
    vit.train()
    assert not torch.equal(vit(x)[-1], vit(x)[-1])          # stochastic depth while training
    vit.eval()
    plain = vit(x)[-1]
    assert torch.equal(plain, vit(x)[-1])
    vit.cls_embed_twice = True                             # the authors' double class embedding
    assert not torch.equal(plain, vit(x)[-1])


def test_schedule_is_poly_over_all_iterations_with_the_warmup_multiplied_in():
    """mmcv's poly + linear warm-up, as the authors' lr_config: lr_i = warm_i · poly_i."""
    from mmengine.config import Config
    from mmengine.registry import PARAM_SCHEDULERS
    from ..conftest import REPO
    cfg = Config.fromfile(str(REPO / 'configs/_base_/schedules/denseclip_80k.py'))
    optim = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.optim_wrapper.optimizer.lr)
    scheds = [PARAM_SCHEDULERS.build(dict(s, optimizer=optim)) for s in cfg.param_scheduler]
    T, base = 80000, 1e-4
    for i in range(3001):
        if i in (0, 10, 750, 1499, 1500, 1501, 3000):
            poly = (base - 1e-6) * (1 - i / T) ** 0.9 + 1e-6
            warm = 1 - (1 - i / 1500) * (1 - 1e-6) if i < 1500 else 1.0
            assert optim.param_groups[0]['lr'] == pytest.approx(poly * warm, rel=2e-3), i
        for s in scheds:
            s.step()


def test_denseclip_loads_clip_once(monkeypatch):
    import clipseg.models.clip.loader as loader
    calls = []
    original = loader.create_clip

    def counting(*args, **kwargs):
        calls.append(args or kwargs)
        return original(*args, **kwargs)
    for module in ('clipseg.models.segmentors.denseclip', 'clipseg.models.heads.pixel_text_head',
                   'clipseg.models.backbones.clip_resnet', 'clipseg.models.backbones.clip_vit'):
        monkeypatch.setattr(f'{module}.create_clip', counting)
    model = denseclip('rn')
    assert len(calls) == 1
    assert model.decode_head.prompt.token_embedding is not None
