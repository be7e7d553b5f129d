# ClearCLIP as its authors run it (mc-lan/ClearCLIP clearclip_segmentor.py defaults): slide 448/224,
# logit scale 50, DINO-style positions, crops padded evenly on both sides (compute_padsize); CLIP
# in fp16 on GPU as theirs (clearclip_segmentor.py:31, 208): 'fp16_cuda' (fp32 on CPU).
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(
    attention='clearclip',
    backbone_cfg=dict(pos_resize='dino', pad='even'),
    test_cfg=dict(crop_size=(448, 448), stride=(224, 224), logit_scale=50.0,
                  precision='fp16_cuda'))
