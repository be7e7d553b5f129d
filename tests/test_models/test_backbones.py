import pytest
import torch
import torch.nn.functional as F

from clipseg.models import CLIPResNet, CLIPViT
from clipseg.models.clip.loader import create_clip
from ..conftest import TINY_RN, TINY_VIT


def test_vit_vanilla_matches_open_clip_blocks():
    """With vanilla attention and the native input size, every block output equals open_clip's."""
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    adapter = CLIPViT(visual=visual, attention='vanilla', out_indices=(0, 1, 2))
    x = torch.randn(2, 3, 64, 64)
    ours = adapter(x)
    ref = visual.forward_intermediates(x, indices=[0, 1, 2], intermediates_only=True)
    for a, b in zip(ours[:3], ref['image_intermediates']):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_vit_maskclip_is_value_path():
    """MaskCLIP dense output = ln_post(x + out_proj(v) + FFN(...)) @ proj for every token."""
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    adapter = CLIPViT(visual=visual, attention='maskclip')
    x = torch.randn(1, 3, 48, 80)
    tokens, grid = adapter.embed(x)
    for blk in visual.transformer.resblocks[:-1]:
        tokens = blk(tokens)
    blk = visual.transformer.resblocks[-1]
    v = torch.nn.functional.linear(blk.ln_1(tokens), blk.attn.in_proj_weight, blk.attn.in_proj_bias)[..., 128:]
    y = tokens + blk.attn.out_proj(v)
    y = y + blk.mlp(blk.ln_2(y))
    want = (visual.ln_post(y) @ visual.proj)[:, 1:].transpose(1, 2).reshape(1, 32, 3, 5)
    torch.testing.assert_close(adapter(x)[-1], want, atol=1e-5, rtol=1e-5)


def test_vit_intermediate_taps_and_any_size():
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    out = CLIPViT(visual=visual, out_indices=(-3,), tap='ln_2')(torch.randn(1, 3, 33, 17))
    assert out[0].shape == (1, 64, 3, 2) and out[1].shape == (1, 32, 3, 2)


def test_positions_are_kept_per_grid_until_the_weights_change():
    """Inference reuses one resized positional embedding per grid; a changed weight (load, an
    optimiser step) or a training forward resizes again, and training still gets gradients."""
    from clipseg.models.clip.positions import resize_pos_embed
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    adapter = CLIPViT(visual=visual, attention='maskclip')
    pe = visual.positional_embedding
    with torch.no_grad():
        first = adapter.positions((3, 5))
        assert adapter.positions((3, 5)) is first
        torch.testing.assert_close(first, resize_pos_embed(pe, (4, 4), (3, 5)))
        assert adapter.positions((5, 3)) is not first
        pe.add_(1.0)                                        # as load_state_dict / a step does
        moved = adapter.positions((3, 5))
    torch.testing.assert_close(moved, first + 1.0, atol=1e-5, rtol=0)
    pe.requires_grad_(True)                                 # a trained tower (DenseCLIP)
    adapter.positions((3, 5)).sum().backward()             # resized in the graph, not cached
    assert pe.grad is not None and pe.grad.abs().sum() > 0


def test_resnet_maskclip_is_v_then_c_proj():
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_RN)[0].visual
    adapter = CLIPResNet(visual=visual, attention='maskclip', out_indices=(0, 3))
    x = torch.randn(1, 3, 64, 96)
    c1, c4, dense = adapter(x)
    assert c1.shape[-2:] == (16, 24) and c4.shape[-2:] == (2, 3)
    pool = visual.attnpool
    want = pool.c_proj(pool.v_proj(c4.flatten(2).transpose(1, 2))).transpose(1, 2).reshape(1, 32, 2, 3)
    torch.testing.assert_close(dense, want)


def test_frozen_backbone_has_no_trainable_params():
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    assert not any(p.requires_grad for p in CLIPViT(visual=visual).parameters())


def test_dino_style_positional_resize_matches_dinos_formula():
    from clipseg.models.backbones.clip_vit import resize_pos_embed
    torch.manual_seed(0)
    pos = torch.randn(1 + 14 * 14, 8)
    got = resize_pos_embed(pos, (14, 14), (21, 28), mode='dino')
    # DINO's interpolate_pos_encoding: bicubic with scale factor (h + 0.1) / sqrt(N)
    grid = pos[1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    ref = F.interpolate(grid, scale_factor=(21.1 / 14, 28.1 / 14), mode='bicubic')
    torch.testing.assert_close(got[1:], ref.permute(0, 2, 3, 1).reshape(-1, 8))
    torch.testing.assert_close(got[:1], pos[:1])
    exact = resize_pos_embed(pos, (14, 14), (21, 28), mode='exact')
    assert (exact - got).abs().max() > 1e-3              # a different sampling grid


@pytest.mark.parametrize('pad', ['even', 'drop'])
def test_pad_modes_of_the_vit_adapter(pad):
    from clipseg.models.backbones import CLIPViT
    torch.manual_seed(0)
    vit = CLIPViT('tiny', model_cfg=TINY_VIT, attention='maskclip', pad=pad).eval()
    x = torch.randn(1, 3, 40, 50)
    got = vit(x)[-1]
    vit.pad = 'corner'
    if pad == 'even':                                  # 8 rows and 14 columns of padding, split
        want = vit(F.pad(x, (7, 7, 4, 4)))[-1]
    else:                                              # leftover pixels dropped: 2 × 3 grid
        want = vit(x[..., :32, :48])[-1]
    assert got.shape == want.shape and torch.equal(got, want)
    with pytest.raises(ValueError, match='pad must be one of'):
        CLIPViT('tiny', model_cfg=TINY_VIT, pad='reflect')


def test_ln_eps_sets_every_layernorm_of_the_tower():
    """MaskCLIP's converted ViT: LayerNorm eps 1e-6 everywhere in the tower; it changes features."""
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    x = torch.randn(1, 3, 64, 64)
    before = CLIPViT(visual=visual)(x)[-1]
    adapter = CLIPViT(visual=visual, ln_eps=1e-6)
    norms = [m for m in adapter.visual.modules() if isinstance(m, torch.nn.LayerNorm)]
    assert len(norms) == 2 + 2 * 3 and all(m.eps == 1e-6 for m in norms)
    assert not torch.equal(adapter(x)[-1], before)
    with pytest.raises(ValueError, match='ln_eps'):
        CLIPViT(visual=visual, ln_eps=0)
