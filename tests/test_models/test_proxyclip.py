"""ProxyCLIP and the proxy slot against a written-out reference of the authors' computation."""
import sys

import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPViT
from clipseg.models.attention.proxyclip import proxy_attention
from clipseg.models.clip import WeightsUnavailableError
from clipseg.models.clip.loader import create_clip
from clipseg.models.proxies import build_proxy
from mmseg.registry import MODELS
from ..conftest import TINY_PROXY, TINY_RN, TINY_SAM, TINY_VIT, photo_batch, write_tiny_config
from .references import proxyclip as ref

CLIP_MEAN = [122.771, 116.746, 104.094]
CLIP_STD = [68.501, 66.632, 70.323]


def _parts():
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual.eval()
    proxy = build_proxy(TINY_PROXY)
    proxy.set_input_stats(torch.tensor(CLIP_MEAN), torch.tensor(CLIP_STD))
    return visual, proxy


@pytest.mark.parametrize('size', [(112, 112), (112, 168), (100, 130)])
def test_dense_features_match_the_reference(size):
    """Square crops (all the authors run), non-square ones, and one padded to 56 evenly."""
    visual, proxy = _parts()
    adapter = CLIPViT(visual=visual, attention='proxyclip', proxy=proxy, pos_resize='dino',
                      pad='even_stretch', pad_multiple=56).eval()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = adapter(x)[-1][0]                                   # (E, h', w') on the DINO grid
        padded, _ = ref._pad_56(x)
        dino_in = ((padded * ref.CLIP_STD + ref.CLIP_MEAN) - ref.IN_MEAN) / ref.IN_STD
        ex = ref.dino_last_features(proxy.vit, dino_in)
        want = ref.clip_proxy_features(visual, padded, ex)[0]
    assert ours.shape[-2:] == (padded.shape[-2] // 8, padded.shape[-1] // 8)
    ours = ours.flatten(1).t()
    cos = F.cosine_similarity(ours, want, dim=-1)
    assert cos.min() >= 0.9999, cos.min()
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=1e-4)


def test_proxy_attention_keeps_to_the_planted_groups():
    """Two orthogonal groups of patches: a patch attends only inside its own group (Eq. 4's mask),
    and more to the patches nearer to it."""
    a, b = torch.zeros(8), torch.zeros(8)
    a[0], b[1] = 1.0, 1.0
    feats = torch.stack([a, a + 0.3 * b, a, b, b, b + 0.1 * a]).t().reshape(1, 8, 2, 3)
    attn = proxy_attention(feats)[0]
    assert (attn[:3, 3:] == 0).all() and (attn[3:, :3] == 0).all()
    assert attn[0, 2] > attn[0, 1] > 0
    torch.testing.assert_close(attn.sum(-1), torch.ones(6))
    blank = proxy_attention(torch.ones(1, 8, 2, 3))[0]          # every pair below β·mean
    assert torch.isfinite(blank).all()
    torch.testing.assert_close(blank, torch.full((6, 6), 1 / 6))


def _tiny_config(tmp_path, base):
    return write_tiny_config(tmp_path, base, extra=f"proxy=dict(_delete_=True, **{TINY_PROXY!r})")


def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini):
    """The shipped VOC21 config (slide 336/112 at short side 336, logit 40, prob_thd 0.2, their
    46-query list) on a voc_mini photo: class probabilities and labels as the reference."""
    cfg = _tiny_config(tmp_path, 'configs/proxyclip/proxyclip_vit-b16_openai_dino-b8_slide336_voc21.py')
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    inputs, _ = photo_batch(model, photo)
    out = model.predict(inputs)[0]
    emb = model.class_embeddings()
    assert (emb.num_classes, emb.queries.shape[0]) == (21, 46)
    with torch.no_grad():
        logits = ref.slide_logits(model.backbone.visual, model.backbone.proxy.vit, inputs,
                                  emb.queries.float())
    probs, labels = ref.postprocess(logits, emb.query_class, emb.num_classes, 40.0, 0.2)
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-4, rtol=1e-4)
    assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999
    assert len(labels.unique()) > 1


def test_image_smaller_than_the_crop_is_padded_evenly_as_theirs():
    """A 90×130 image under 336 crops: one window padded to 112×168, logits cut back (stitching's
    'even_stretch' against the reference's pad-interpolate-unpad)."""
    visual, proxy = _parts()
    seg = MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                            attention='proxyclip', proxy=proxy, class_names='cat,dog,car',
                            backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56),
                            test_cfg=dict(crop_size=(336, 336), stride=(112, 112)))).eval()
    seg.backbone.visual.load_state_dict(visual.state_dict())
    x = torch.randn(1, 3, 90, 130, generator=torch.Generator().manual_seed(2))
    emb = seg.class_embeddings()
    with torch.no_grad():
        ours = seg.encode_decode(x, [dict(img_shape=(90, 130))])[0]
        want = ref.slide_logits(visual, proxy.vit, x, emb.queries.float())
        window = seg.window_logits(x, emb)[0]
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(window, want, atol=1e-4, rtol=1e-4)


def test_proxies_give_their_own_grids_and_statistics():
    torch.manual_seed(0)
    reg = build_proxy(dict(TINY_PROXY, model_name='vit_base_patch14_reg4_dinov2.lvd142m'))
    assert (reg.prefix, reg.patch_size, reg.pos_resize) == (5, 14, 'timm')
    x = torch.randn(1, 3, 56, 70)
    feats = reg(x)
    direct = reg.vit.forward_features(reg.renormalise(x))[:, 5:]
    torch.testing.assert_close(feats, direct.transpose(1, 2).reshape(1, 64, 4, 5))
    v3 = build_proxy(dict(TINY_PROXY, model_name='vit_base_patch16_dinov3.lvd1689m'))
    assert (v3.prefix, v3.patch_size, v3.pos_resize) == (5, 16, 'timm')    # CLS + 4 registers
    assert v3(torch.randn(1, 3, 64, 96), 'q+k').shape == (1, 64, 4, 6)
    sam = build_proxy(TINY_SAM)
    sam.set_input_stats(torch.tensor(CLIP_MEAN), torch.tensor(CLIP_STD))
    grey = (torch.full((1, 3, 40, 60), 128.0) - torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)) \
        / torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    sam_in = (torch.full((1, 3, 128, 128), 128.0) - torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)) \
        / torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(sam(grey), sam.encoder(sam_in), atol=1e-4, rtol=1e-4)
    assert sam(grey).shape == (1, 16, 8, 8)
    with pytest.raises(ValueError, match="gives features \\['x'\\], not 'k'"):
        sam(grey, 'k')


def test_missing_parts_fail_at_build_naming_what_to_set(monkeypatch, tmp_path):
    clip = dict(model_name='tiny', model_cfg=TINY_VIT)
    with pytest.raises(ValueError, match='set model.proxy'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention='proxyclip'))
    with pytest.raises(ValueError, match='does not use one'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention='sclip', proxy=TINY_PROXY))
    with pytest.raises(WeightsUnavailableError, match='model.proxy.checkpoint'):
        build_proxy(dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'))
    with pytest.raises(WeightsUnavailableError, match='sam_vit_b_01ec64.pth'):
        build_proxy(dict(type='SAMProxy'))
    with pytest.raises(FileNotFoundError, match='model.proxy.checkpoint'):
        build_proxy(dict(type='SAMProxy', checkpoint='/nonexistent/sam.pth'))
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(bytes(range(256)) * 4)
    for proxy in (dict(TINY_PROXY, checkpoint=str(garbage)), dict(type='SAMProxy', checkpoint=str(garbage))):
        with pytest.raises(ValueError, match='is not a PyTorch checkpoint'):
            build_proxy(proxy)
    other = tmp_path / 'other.pth'
    torch.save({'model': {'head.weight': torch.zeros(2)}}, other)
    with pytest.raises(ValueError, match='does not fit the ViT'):
        build_proxy(dict(TINY_PROXY, checkpoint=str(other)))
    vit = build_proxy(TINY_PROXY).vit
    good = tmp_path / 'dino.pth'
    torch.save({'state_dict': vit.state_dict()}, good)
    loaded = build_proxy(dict(TINY_PROXY, checkpoint=str(good))).vit
    assert all(torch.equal(a, b) for a, b in zip(vit.state_dict().values(), loaded.state_dict().values()))
    with pytest.raises(ValueError, match='not a multiple of the proxy patch'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention='proxyclip', proxy=TINY_PROXY,
                          backbone_cfg=dict(pad='even_stretch', pad_multiple=60)))
    with pytest.raises(TypeError, match='CLIPViT'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_RN),
                          attention='proxyclip', proxy=TINY_PROXY))
    monkeypatch.setitem(sys.modules, 'segment_anything', None)
    with pytest.raises(ImportError, match=r'clipseg\[sam\]'):
        build_proxy(dict(type='SAMProxy', pretrained=False))
