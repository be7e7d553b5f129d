"""CASS against a written-out reference of the authors' computation, on identical random weights."""
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPViT
from clipseg.models.attention.cass import low_rank, spectral_distance
from clipseg.models.clip.loader import create_clip
from clipseg.models.proxies import build_proxy
from mmseg.registry import MODELS
from ..conftest import TINY_PROXY, TINY_VIT, photo_batch, write_tiny_config
from .references import cass as ref

TINY_DINO_LIKE_CLIP = TINY_PROXY          # CASS pairs heads: CLIP's layout, 2 heads × 32
OTHER_LAYOUT = dict(TINY_PROXY, model_kwargs=dict(embed_dim=32, depth=2, num_heads=2))


def _parts():
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual.eval()
    return visual, build_proxy(TINY_DINO_LIKE_CLIP)


@pytest.mark.parametrize('size,rescale', [((64, 64), True), ((96, 144), True), ((80, 64), False)])
def test_dense_features_and_global_token_match_the_reference(size, rescale):
    """Square windows, and whole images that the authors' DINO input squashes to a square."""
    visual, proxy = _parts()
    adapter = CLIPViT(visual=visual, proxy=proxy, with_global=True, pos_resize='dino', pad='drop',
                      attention=dict(type='CASSAttention', rescale_singular=rescale)).eval()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1)).clamp(-1.7, 1.9)
    with torch.no_grad():
        glob, dense = adapter(x)[-1]
        want, want_glob = ref.cass_tower(visual, proxy.vit, x, rescale=rescale)
    ours = dense[0].flatten(1).t()
    cos = F.cosine_similarity(ours, want, dim=-1)
    assert cos.min() >= 0.9999, cos.min()
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(glob[0], want_glob, atol=1e-5, rtol=1e-4)


def test_heads_pair_by_spectral_distance_and_graphs_keep_their_top_eigenpairs():
    a = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    b = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    d = spectral_distance(a, b)
    assert d[0, 1] == 0 and d[1, 0] == 0 and d[0, 0] > 0.9       # identical spectra: distance 0
    g = torch.Generator().manual_seed(0)
    basis = torch.linalg.qr(torch.randn(8, 8, generator=g))[0]
    graph = basis @ torch.diag(torch.tensor([9.0, 7, 5, 3, 0.1, 0.05, 0.02, 0.01])) @ basis.t()
    approx = low_rank(graph, 4, rescale=False)
    want = basis[:, :4] @ torch.diag(torch.tensor([9.0, 7, 5, 3])) @ basis[:, :4].t()
    torch.testing.assert_close(approx.float(), want.fill_diagonal_(0), atol=1e-5, rtol=1e-5)


def _tiny_config(tmp_path, base):
    return write_tiny_config(tmp_path, base,
                             extra=f"proxy=dict(_delete_=True, **{TINY_DINO_LIKE_CLIP!r})")


def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini):
    """The shipped VOC21 config (whole image at short side 336, w 0.1, a 0.03, h 0.10, prob_thd
    0.1, ward clusters) on a voc_mini photo: class probabilities and labels as the reference."""
    cfg = _tiny_config(tmp_path, 'configs/cass/cass_vit-b16_openai_dino-b8_whole336_voc21.py')
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    inputs, _ = photo_batch(model, photo)
    out = model.predict(inputs)[0]
    emb = model.class_embeddings()
    x = inputs
    H, W = x.shape[-2:]
    with torch.no_grad():
        dense, glob = ref.cass_tower(model.backbone.visual, model.backbone.proxy.vit, x)
        logits = ref.cass_logits(dense, glob, emb.queries.float(), 0.1, 0.03, 0.10)
    logits = F.interpolate(logits.reshape(1, -1, H // 16, W // 16),
                           size=(H, W), mode='bilinear', align_corners=False)[0]
    p = F.softmax(logits * 40.0, dim=0)
    probs = torch.stack([p[emb.query_class == c].max(0).values for c in range(21)])
    labels = probs.argmax(0)
    labels[probs.max(0).values < 0.1] = 0
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-4, rtol=1e-4)
    assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999


def test_a_proxy_with_another_head_layout_is_refused_by_name():
    torch.manual_seed(0)
    seg = MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                            attention='cass', proxy=OTHER_LAYOUT, class_names='cat,dog',
                            backbone_cfg=dict(with_global=True),
                            decode_head=dict(type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05,
                                             cluster_distance=0.06, linkage='ward')))
    with pytest.raises(ValueError, match='same head layout'):
        seg.predict(torch.randn(1, 3, 64, 64))
