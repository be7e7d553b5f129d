# DenseCLIP (Rao et al., CVPR 2022) with ViT-B-16 on ADE20K-150: the RN50 model with ViT blocks
# 3/5/7/11 turned into strides 4-32, score map concatenated to level 2, 640 crops, slide 640/426.
_base_ = [
    '../_base_/models/denseclip_fpn_rn50_openai.py',
    '../_base_/datasets/ade20k150_train640.py',
    '../_base_/schedules/denseclip_80k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    clip=dict(model_name='ViT-B-16'),
    class_names={{_base_.class_names}},
    data_preprocessor=dict(size=(640, 640)),
    backbone=dict(type='CLIPViT', out_indices=(3, 5, 7, 11), multiscale=True),
    decode_head=dict(
        score_concat_index=2,
        neck=dict(in_channels=[768, 768, 768 + 150, 768])),
    test_cfg=dict(crop_size=(640, 640), stride=(426, 426)))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook')]  # dropout continues exactly on --resume
