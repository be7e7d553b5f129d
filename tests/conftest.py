import os
import warnings
from pathlib import Path

os.environ['HF_HUB_OFFLINE'] = '1'
os.environ.setdefault('CLIPSEG_CACHE', __import__('tempfile').mkdtemp(prefix='clipseg-cache-'))
warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``')

import open_clip  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import clipseg  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[1]
# three real VOC photos where ../shared is present; else (a clone) the stand-in tests/data/voc_like.py
# builds; CLIPSEG_TEST_VOC_MINI=<folder> points elsewhere (e.g. a missing one, to use the stand-in)
SHARED_DATA = Path(os.environ.get('CLIPSEG_TEST_VOC_MINI', REPO.parent / 'shared' / 'data' / 'voc_mini'))

TINY_VIT = dict(embed_dim=32,
                vision_cfg=dict(image_size=64, layers=3, width=64, head_width=32, patch_size=16),
                text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1))
TINY_RN = dict(embed_dim=32,
               vision_cfg=dict(image_size=64, layers=[1, 1, 1, 1], width=16, head_width=16),
               text_cfg=dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1))


# tower variants with layer indices that fit the 3-block tiny ViT (their defaults are ViT-B/16's)
SHALLOW_TOWER_VARIANTS = {
    'scclip': dict(type='SCCLIPAttention', pre_adjust_idx=1, post_adjust_idx=0, multi_start_idx=0,
                   multi_end_idx=2),
    'rfclip': dict(type='RFCLIPAttention', distraction_dims=(3, 17)),
    'resclip': dict(type='ResCLIPAttention', rcs_layers=(0, 1), sfr=None),  # SFR: test_resclip
    'proxyclip': 'proxyclip',
    'cass': 'cass',
    'corrclip': dict(type='CorrCLIPAttention', spatial_layers=1),
}


def guided_parts(attention):
    """What a guided variant needs besides CLIP: the tiny DINO proxy, ProxyCLIP's padding, and
    for CorrCLIP regions (DINO clusters: no extra model)."""
    from clipseg.models.attention import build_attention
    built = build_attention(attention)
    if not built.guide:
        return {}
    parts = dict(proxy=TINY_PROXY, backbone_cfg=dict(pos_resize='dino', pad='even_stretch',
                                                     pad_multiple=56))
    if getattr(built, 'needs_regions', False):
        parts['mask_source'] = dict(type='DINOClusterMasks', num_clusters=3)
    return parts


def tiny_segmentor(attention='maskclip', model_cfg=TINY_VIT, classes='cat,dog,car', **test_cfg):
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    return MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=model_cfg),
                             attention=attention, class_names=classes, **guided_parts(attention),
                             test_cfg=dict(dict(mode='slide', crop_size=(64, 64), stride=(32, 32)),
                                           **test_cfg))).eval()


@pytest.fixture(scope='session')
def tiny_ckpt(tmp_path_factory):
    """A local random-weight checkpoint of the tiny ViT CLIP."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('ckpt') / 'tiny_vit.pt'
    torch.save(open_clip.CLIP(**TINY_VIT).state_dict(), path)
    return path


@pytest.fixture(scope='session')
def voc_mini(tmp_path_factory):
    """The VOC sample: ../shared's three photos, or the procedural stand-in (same names, sizes
    and layout) so that a clone runs every test."""
    if SHARED_DATA.is_dir():
        return SHARED_DATA
    from .data.voc_like import make_voc_like
    return make_voc_like(tmp_path_factory.mktemp('voc_like'))


def photo_batch(model, photo):
    """One photo file through the model's own test pipeline and data preprocessor →
    (inputs (1, 3, H, W), data samples carrying ``img_path``)."""
    from clipseg.apis.inference import image_pipeline, prepare
    packed = prepare(image_pipeline(model.cfg), str(photo), 0, True)
    packed['data_samples'].set_metainfo(dict(img_path=str(photo)))
    data = model.data_preprocessor(dict(inputs=[packed['inputs']], data_samples=[packed['data_samples']]))
    return data['inputs'], data['data_samples']


def write_tiny_config(tmp_path, base, name='tiny.py', model_cfg=None, extra=''):
    """A config inheriting ``base`` with a tiny architecture (default: the tiny ViT) swapped in;
    ``extra``: more ``model`` keys, as config text (``"proxy=dict(_delete_=True, ...)"``)."""
    path = tmp_path / name
    path.write_text(f"_base_ = ['{REPO / base}']\n"
                    f"model = dict(clip=dict(_delete_=True, model_name='tiny', "
                    f"model_cfg={model_cfg or TINY_VIT!r}, pretrained=None)"
                    f"{', ' + extra if extra else ''})\n")
    return path

TINY_DINO = dict(model_name='vit_base_patch16_224.dino', pretrained=False,
                 model_kwargs=dict(embed_dim=32, depth=2, num_heads=2))


def tiny_dinoiser(classes='background,cat,dog', **kwargs):
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    cfg = dict(type='CLIPDINOiser', clip=dict(model_name='tiny', model_cfg=TINY_VIT), proj_dim=16,
               class_names=classes, teacher=TINY_DINO, allow_random_heads=True,
               test_cfg=dict(mode='slide', crop_size=(64, 64), stride=(32, 32)))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def write_tiny_dinoiser_config(tmp_path, base, name='tiny_dinoiser.py', extra=''):
    path = tmp_path / name
    path.write_text(f"_base_ = ['{REPO / base}']\n"
                    f"model = dict(clip=dict(model_name='tiny-vit', model_cfg={TINY_VIT!r}, "
                    f"pretrained=None), proj_dim=16, teacher={TINY_DINO!r}, "
                    "background_teacher=dict(_delete_=True, tau=0.3))\n" + extra)
    return path


# one tiny tower per open_clip image-tower family (random weights, 64 px)
TINY_TEXT = dict(context_length=77, vocab_size=49408, width=32, heads=2, layers=1)
TINY_SIGLIP = dict(embed_dim=32, custom_text=True, init_logit_bias=-10.0,
                   vision_cfg=dict(image_size=64, timm_model_name='vit_base_patch16_siglip_224',
                                   timm_model_pretrained=False, timm_pool='map', timm_proj='none',
                                   timm_model_kwargs=dict(embed_dim=32, depth=2, num_heads=2,
                                                          img_size=64)),
                   text_cfg=dict(TINY_TEXT, context_length=64, no_causal_mask=True,
                                 proj_bias=True, pool_type='last'))
TINY_EVA02 = dict(embed_dim=32, custom_text=True,
                  vision_cfg=dict(image_size=64, timm_model_name='eva02_base_patch16_clip_224',
                                  timm_model_pretrained=False, timm_pool='token', timm_proj=None,
                                  timm_model_kwargs=dict(embed_dim=32, depth=2, num_heads=2,
                                                         img_size=64)),
                  text_cfg=TINY_TEXT)
TINY_CONVNEXT = dict(embed_dim=32,
                     vision_cfg=dict(image_size=64, timm_model_name='convnext_base',
                                     timm_model_pretrained=False, timm_pool='', timm_proj='linear',
                                     timm_model_kwargs=dict(depths=(1, 1, 1, 1),
                                                            dims=(8, 16, 24, 32))),
                     text_cfg=TINY_TEXT)
TINY_COCA = dict(embed_dim=32, vision_cfg=dict(TINY_VIT['vision_cfg'], attentional_pool=True,
                                               attn_pooler_queries=4, attn_pooler_heads=2),
                 text_cfg=TINY_TEXT)
TINY_CLIPA = dict(embed_dim=32, vision_cfg=dict(TINY_VIT['vision_cfg'], pool_type='avg',
                                                final_ln_after_pool=True),
                  text_cfg=TINY_TEXT)
TOWER_FAMILIES = {'vit': TINY_VIT, 'coca': TINY_COCA, 'clipa': TINY_CLIPA, 'resnet': TINY_RN,
                  'siglip': TINY_SIGLIP, 'eva02': TINY_EVA02, 'convnext': TINY_CONVNEXT}


@pytest.fixture(autouse=True)
def mmseg_scope():
    """Every test starts in mmseg's default scope (detection tests leave mmdet's current)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')

# a tiny DINO ViT-B/8-shaped proxy with the tiny ViT's head layout (2 × 32: CASS pairs heads) and a
# tiny SAM image encoder (random weights)
TINY_PROXY = dict(type='TimmProxy', model_name='vit_base_patch8_224.dino', pretrained=False,
                  model_kwargs=dict(embed_dim=64, depth=2, num_heads=2))
TINY_SAM = dict(type='SAMProxy', pretrained=False,
                encoder_cfg=dict(img_size=128, patch_size=16, embed_dim=32, depth=2, num_heads=2,
                                 out_chans=16, window_size=4, global_attn_indexes=(1,)))
# a tiny whole SAM (encoder with relative positions and a global last block, prompt encoder, decoder)
TINY_SAM_MODEL = dict(tiny=dict(img_size=128, patch_size=16, embed_dim=32, depth=2, num_heads=2,
                                out_chans=16, window_size=4, global_attn_indexes=(1,),
                                use_rel_pos=True))


_OVSEG_LAYER = dict(embed_dims=32, num_heads=4, attn_drop=0.0, proj_drop=0.0, dropout_layer=None,
                    batch_first=True)
# OVSeg's first stage, tiny (the sizes of tests/data/ovseg_detectron2_tiny_keys.txt); text dim 64
TINY_OVSEG_PROPOSALS = dict(
    type='OVSegProposals',
    backbone=dict(type='mmseg.SwinTransformer', pretrain_img_size=384, embed_dims=32, patch_size=4,
                  window_size=12, mlp_ratio=4, depths=(2, 2, 2, 2), num_heads=(1, 2, 4, 8),
                  strides=(4, 2, 2, 2), out_indices=(0, 1, 2, 3), qkv_bias=True, patch_norm=True,
                  drop_path_rate=0.0, use_abs_pos_embed=False, init_cfg=None),
    head=dict(type='OpenVocabMaskFormerHead', in_channels=[32, 64, 128, 256], in_index=[0, 1, 2, 3],
              feat_channels=32, out_channels=32, num_queries=10, embed_dims=64,
              embed_hidden_dims=48, embed_layers=2, enforce_decoder_input_project=False,
              pixel_decoder=dict(type='mmdet.PixelDecoder', norm_cfg=dict(type='GN', num_groups=32),
                                 act_cfg=dict(type='ReLU')),
              positional_encoding=dict(num_feats=16, normalize=True),
              transformer_decoder=dict(
                  return_intermediate=True, num_layers=2, init_cfg=None,
                  layer_cfg=dict(self_attn_cfg=_OVSEG_LAYER, cross_attn_cfg=_OVSEG_LAYER,
                                 ffn_cfg=dict(embed_dims=32, feedforward_channels=64, num_fcs=2,
                                              act_cfg=dict(type='ReLU', inplace=True), ffn_drop=0.0,
                                              dropout_layer=None, add_identity=True)))))
TINY_VIT_64 = dict(TINY_VIT, embed_dim=64)
# OVSeg's small release, tiny: detectron2's DeepLab ResNet-101 as mmseg's ResNetV1c (stem 16,
# widths 8..64; tests/data/ovseg_r101c_detectron2_tiny_keys.txt)
TINY_OVSEG_R101C = dict(
    TINY_OVSEG_PROPOSALS,
    backbone=dict(type='mmseg.ResNetV1c', depth=101, stem_channels=16, base_channels=8,
                  num_stages=4, out_indices=(0, 1, 2, 3), strides=(1, 2, 2, 2),
                  dilations=(1, 1, 1, 1), multi_grid=(1, 2, 4),
                  norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True, style='pytorch',
                  init_cfg=None))
