# MaskCLIP as its authors run it (chongzhou96/MaskCLIP configs/_base_/models/maskclip_*.py and the
# dataset configs): whole image, ImageNet mean/std, the 85 templates of prompt_engineering.py,
# plain argmax. Key smoothing and prompt denoising are off in their benchmark configs, as here.
# Sizes off the patch grid: their ViT pads bottom/right (mmseg vit.py:222-228, embed.py:70-74) and
# the padded grid is stretched over the unpadded image (encoder_decoder.py:72-82): 'corner_stretch'.
# Their converted ViT runs nn.GELU and LayerNorm eps 1e-6 (configs/_base_/models/maskclip_vit16.py);
# for their converted weights set clip=dict(quick_gelu=False) and backbone_cfg=dict(ln_eps=1e-6).
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(
    attention='maskclip',
    templates='maskclip',
    backbone_cfg=dict(pos_resize='exact', pad='corner_stretch'),  # mmseg's ViT: exact bicubic grid
    data_preprocessor=dict(type='mmseg.MixedSizeSegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0, seg_pad_val=255),
    test_cfg=dict(mode='whole', logit_scale=100.0))
