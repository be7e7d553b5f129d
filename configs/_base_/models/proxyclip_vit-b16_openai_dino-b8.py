# ProxyCLIP as its authors run it (mc-lan/ProxyCLIP @e7b767f proxyclip_segmentor.py:30-104,
# configs/base_config.py): OpenAI ViT-B/16 guided by DINO ViT-B/8's last-layer features
# (β 1.2, γ 3.0), slide 336/112, crops padded evenly to a multiple of 56, DINO-style positions,
# logit scale 40, their class lists; CLIP and the proxy in fp16 on GPU as theirs ('fp16_cuda').
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(
    attention=dict(type='ProxyCLIPAttention', beta=1.2, gamma=3.0),
    proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'),
    backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56),
    test_cfg=dict(mode='slide', crop_size=(336, 336), stride=(112, 112), logit_scale=40.0,
                  precision='fp16_cuda'))
