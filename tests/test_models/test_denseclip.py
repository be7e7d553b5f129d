import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from clipseg.models import ContextDecoder
from clipseg.models.clip_loader import create_clip
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
    inch = [c + (len(CLASSES) if i == idx else 0) for i, c in enumerate(inch)]
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
    words = tok(['a photo cat.'])[0]              # SOT a photo cat . EOT
    with torch.no_grad():
        enc.contexts.copy_(model.token_embedding(words[1:3])[None])
        got = enc()
        full = model.encode_text(tok(['a photo cat.']))  # causal: padding after EOT is unseen
    torch.testing.assert_close(got, full, atol=1e-5, rtol=1e-5)


def test_stock_mmseg_encoder_decoder_uses_the_head(tmp_path):
    from mmengine.config import Config
    cfg = tmp_path / 'stock.py'
    inch = [64, 128, 256, 512 + 3]
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
