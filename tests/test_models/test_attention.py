import contextlib

import pytest
import torch
import torch.nn.functional as F

from clipseg.models import CLIPResNet, CLIPViT
from clipseg.models.attention import build_attention, short_names
from clipseg.models.attention.naclip import gaussian_neighbourhood
from clipseg.models.clip.loader import create_clip
from ..conftest import SHALLOW_TOWER_VARIANTS, TINY_PROXY, TINY_RN, TINY_VIT

VARIANTS = list(short_names())


@pytest.mark.parametrize('variant', VARIANTS)
@pytest.mark.parametrize('cfg,stride', [(TINY_VIT, 16), (TINY_RN, 32)])
def test_dense_shapes_every_variant(variant, cfg, stride):
    visual = create_clip('tiny', model_cfg=cfg)[0].visual
    if build_attention(variant).tower:      # whole-tower variants: open_clip ViT only
        if stride == 32:
            with pytest.raises(TypeError, match='open_clip ViT towers'):
                CLIPResNet(visual=visual, attention=variant)
            return
        variant = SHALLOW_TOWER_VARIANTS[variant]
    if build_attention(variant).guide:       # ProxyCLIP, CorrCLIP: on the proxy's 8-pixel grid
        with pytest.raises(ValueError, match='set model.proxy'):
            CLIPViT(visual=visual, attention=variant)
        adapter = CLIPViT(visual=visual, attention=variant, proxy=TINY_PROXY, pad='even_stretch',
                          pad_multiple=56)
        regions = torch.arange(2 * 100 * 70).view(2, 100, 70) // 1000      # horizontal bands
        context = getattr(adapter.attention, 'region_context', lambda r: contextlib.nullcontext())
        with context(regions):
            out = adapter(torch.randn(2, 3, 100, 70))
        grid = (112 // 16,) * 2 if variant == 'cass' else (112 // 8,) * 2   # CASS: CLIP's grid
        assert out[-1].shape == (2, 32, *grid) and torch.isfinite(out[-1]).all()
        return
    adapter = (CLIPViT if stride == 16 else CLIPResNet)(visual=visual, attention=variant)
    out = adapter(torch.randn(2, 3, 100, 70))
    assert out[-1].shape == (2, 32, -(-100 // stride), -(-70 // stride))
    assert torch.isfinite(out[-1]).all()


def _qkv(seed=0, B=2, H=2, N=10, d=8):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, H, N, d, generator=g) for _ in range(3)]


def test_variants_match_their_formulas():
    q, k, v = _qkv()
    s = q.shape[-1] ** -0.5
    grid = (3, 3)
    expect = {
        'vanilla': F.softmax(q @ k.transpose(-1, -2) * s, -1) @ v,
        'maskclip': v,
        'sclip': (F.softmax(q @ q.transpose(-1, -2) * s, -1) + F.softmax(k @ k.transpose(-1, -2) * s, -1)) @ v,
        'clearclip': F.softmax(q @ q.transpose(-1, -2) * s, -1) @ v,
        'naclip': F.softmax(k @ k.transpose(-1, -2) * s + gaussian_neighbourhood(grid, 5.0), -1) @ v,
    }
    for name, want in expect.items():
        got = build_attention(name)(q, k, v, grid)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5, msg=name)


def test_gaussian_neighbourhood_prior():
    omega = gaussian_neighbourhood((3, 4), std=1.0)
    assert omega.shape == (13, 13)
    assert (omega[0] == 0).all() and (omega[:, 0] == 0).all()
    assert torch.allclose(omega[1:, 1:].diagonal(), torch.ones(12))
    # patches (0,0) and (0,1) are neighbours: exp(-1/2); (0,0) and (2,3): exp(-(4+9)/2)
    assert omega[1, 2].item() == pytest.approx(torch.exp(torch.tensor(-0.5)).item())
    assert omega[1, 12].item() == pytest.approx(torch.exp(torch.tensor(-6.5)).item())


def test_flags_follow_papers():
    assert build_attention('clearclip').keep_residual is False
    assert build_attention('clearclip').keep_ffn is False
    assert build_attention('naclip').keep_ffn is False
    assert build_attention('maskclip').keep_residual and build_attention('maskclip').keep_ffn
    assert build_attention('sclip').keep_residual


def test_unknown_variant_is_named():
    with pytest.raises(ValueError, match='unknown attention variant'):
        build_attention('proxyclip-typo')
