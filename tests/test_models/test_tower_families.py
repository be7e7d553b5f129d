"""Every open_clip image-tower family: the adapter it gets, dense features that agree with the
family's own forward, every supported variant through the segmentor, refusals, preprocessing."""
import numpy as np
import open_clip
import pytest
import torch

from clipseg.models.backbones import (CLIPResNet, CLIPViT, TimmConvNeXt, TimmViT, adapter_class,
                                      build_clip_adapter)
from clipseg.models.attention import build_attention, short_names
from clipseg.models.clip.loader import create_clip, file_preprocess_cfg, pixel_mean_std
from ..conftest import SHALLOW_TOWER_VARIANTS, TOWER_FAMILIES, tiny_segmentor

VARIANTS = tuple(short_names())
ADAPTER = {'vit': CLIPViT, 'coca': CLIPViT, 'clipa': CLIPViT, 'resnet': CLIPResNet,
           'siglip': TimmViT, 'eva02': TimmViT, 'convnext': TimmConvNeXt}
REFUSED = {'convnext': ('maskclip', 'sclip', 'clearclip', 'naclip')}


def _twin(family):
    """Two identical random models: one for the adapter (which may set timm's dynamic-size mode),
    one left as open_clip built it, for reference."""
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(create_clip('tiny', None, TOWER_FAMILIES[family])[0])
    return models


@pytest.mark.parametrize('family', sorted(TOWER_FAMILIES))
def test_vanilla_global_equals_the_towers_own_encode_image(family):
    model, reference = _twin(family)
    adapter = build_clip_adapter(model.visual, 'vanilla', with_global=True).eval()
    assert type(adapter) is ADAPTER[family] is adapter_class(model.visual)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        (pooled, dense), = adapter(x)
        expected = reference.encode_image(x)
    torch.testing.assert_close(pooled, expected, atol=1e-5, rtol=1e-4)
    assert dense.shape[:2] == (2, expected.shape[1])


@pytest.mark.parametrize('family', ['siglip', 'eva02', 'convnext', 'coca'])
def test_dense_feature_is_the_pooling_head_on_each_token_alone(family):
    """A pooling head given one token pools nothing: MAP over one key is its value path, token
    pooling takes it, average pooling of one location is that location. So the dense feature at
    a token must equal the tower's own head run on that token alone."""
    model = _twin(family)[0]
    adapter = build_clip_adapter(model.visual, 'vanilla').eval()
    visual = model.visual
    with torch.no_grad():
        if family == 'convnext':
            feats = visual.trunk.forward_features(torch.randn(1, 3, 96, 64))
            dense = adapter.project_map(feats)
            alone = visual.head(visual.trunk.forward_head(feats[:, :, 1:2, 1:2]))
            torch.testing.assert_close(dense[:, :, 1, 1], alone, atol=1e-5, rtol=1e-4)
        elif family == 'coca':
            tokens = torch.randn(1, 5, visual.transformer.width)
            one = tokens[:, 2:3]
            pooled = visual.ln_post(visual.attn_pool(one))[:, 0] @ visual.proj
            from clipseg.models.backbones.clip_vit import attention_values
            mine = visual.ln_post(attention_values(visual.attn_pool.attn,
                                                   visual.attn_pool.ln_k(one)))[:, 0] @ visual.proj
            torch.testing.assert_close(mine, pooled, atol=1e-5, rtol=1e-4)
        else:
            tokens = torch.randn(1, 6, visual.trunk.num_features)
            dense = adapter.project_tokens(tokens)
            for i in (0, 3):
                alone = visual.head(visual.trunk.forward_head(tokens[:, i:i + 1]))
                torch.testing.assert_close(dense[:, i], alone, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize('family', sorted(TOWER_FAMILIES))
def test_every_supported_variant_segments_and_the_rest_are_refused(family):
    from mmseg.structures import SegDataSample
    x = torch.rand(3, 70, 100) * 255
    sample = SegDataSample()
    sample.set_metainfo(dict(img_shape=(70, 100), ori_shape=(70, 100), pad_shape=(70, 100)))
    for variant in VARIANTS:
        if variant in REFUSED.get(family, ()):
            with pytest.raises(ValueError, match='no attention'):
                tiny_segmentor(variant, model_cfg=TOWER_FAMILIES[family])
            continue
        if variant == 'vanilla' and family != 'convnext':
            continue  # vanilla dense CLIP is a baseline, covered by the test above
        if build_attention(variant).tower:   # whole-tower variants: open_clip's own ViT only
            if ADAPTER[family] is not CLIPViT or family == 'coca':
                with pytest.raises((TypeError, ValueError),
                                   match='open_clip ViT towers|whole tower|no attention'):
                    tiny_segmentor(variant, model_cfg=TOWER_FAMILIES[family])
                continue
            variant = SHALLOW_TOWER_VARIANTS[variant]
        seg = tiny_segmentor(variant, model_cfg=TOWER_FAMILIES[family])
        with torch.no_grad():
            data = seg.data_preprocessor(dict(inputs=[x], data_samples=[sample]))
            out = seg.predict(data['inputs'], data['data_samples'])[0]
        labels = out.pred_sem_seg.data[0]
        assert labels.shape == (70, 100) and int(labels.max()) < 3


def test_timm_tower_sizes_and_pad_modes():
    model = _twin('siglip')[0]
    for pad, grid in (('corner', (5, 7)), ('even', (5, 7)), ('drop', (4, 6))):
        adapter = TimmViT(visual=model.visual, attention='maskclip', pad=pad).eval()
        with torch.no_grad():
            assert adapter(torch.randn(1, 3, 70, 100))[0].shape[-2:] == grid


def test_options_of_other_towers_are_refused_by_name():
    model = _twin('siglip')[0]
    with pytest.raises(TypeError, match='pos_resize'):
        build_clip_adapter(model.visual, 'sclip', pos_resize='dino')


def test_an_unsupported_tower_is_refused_by_name():
    fastvit = dict(embed_dim=32, vision_cfg=dict(
        image_size=64, timm_model_name='fastvit_t8', timm_model_pretrained=False, timm_pool='avg',
        timm_proj='linear'), text_cfg=TOWER_FAMILIES['vit']['text_cfg'])
    model = create_clip('tiny', None, fastvit)[0]
    with pytest.raises(TypeError, match='FastVit'):
        build_clip_adapter(model.visual, 'maskclip')


@pytest.mark.parametrize('name,tag', [('ViT-B-16-SigLIP', 'webli'), ('ViT-B-16-SigLIP2', 'webli'),
                                      ('EVA02-B-16', 'merged2b_s8b_b131k'),
                                      ('convnext_base', 'laion400m_s13b_b51k'),
                                      ('ViT-L-14', 'laion2b_s32b_b82k'), ('ViT-B-16', 'openai')])
def test_preprocessing_of_a_weights_file_is_open_clips_own(name, tag):
    """The normalisation we give a local file of ``name`` equals the Normalize in the transform
    open_clip itself builds for the tag."""
    from open_clip.transform import PreprocessCfg, image_transform_v2, merge_preprocess_dict
    pp = merge_preprocess_dict(PreprocessCfg(), open_clip.get_pretrained_cfg(name, tag))
    normalize = [t for t in image_transform_v2(PreprocessCfg(**pp), is_train=False).transforms
                 if type(t).__name__ == 'Normalize'][0]
    cfg = file_preprocess_cfg(name, tag if name == 'ViT-L-14' else None)
    holder = torch.nn.Module()
    holder.preprocess_cfg = cfg
    mean, std = pixel_mean_std(holder)
    np.testing.assert_allclose(mean, np.array(normalize.mean) * 255, rtol=1e-6)
    np.testing.assert_allclose(std, np.array(normalize.std) * 255, rtol=1e-6)
    assert cfg['interpolation'] == pp['interpolation']


def test_tags_that_disagree_need_preprocess_tag():
    with pytest.raises(ValueError, match='preprocess_tag'):
        file_preprocess_cfg('ViT-L-14')
    with pytest.raises(ValueError, match='not a tag'):
        file_preprocess_cfg('ViT-B-16', 'webli')


def test_siglip_tokenizer_fails_fast_and_names_itself(monkeypatch, tmp_path):
    weights = tmp_path / 'siglip.bin'
    weights.write_bytes(b'not used')
    with pytest.raises((ImportError, RuntimeError), match='timm/ViT-B-16-SigLIP'):
        create_clip('ViT-B-16-SigLIP', str(weights))
