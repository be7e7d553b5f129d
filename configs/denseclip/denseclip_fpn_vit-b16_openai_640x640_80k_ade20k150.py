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
    class_names='{{fileDirname}}/../_base_/datasets/class_names/mmseg/ade20k150.txt',
    data_preprocessor=dict(size=(640, 640)),
    # positions resized once 14→40 (640 / 16), bilinearly, and trained; drop path 0.1 (DenseCLIP's
    # configs/denseclip_fpn_vit-b_640x640_80k.py). Their ViT also adds the class embedding twice
    # to the CLS token: cls_embed_twice=True reproduces that (off here).
    backbone=dict(type='CLIPViT', out_indices=(3, 5, 7, 11), multiscale=True, pos_grid=40,
                  pos_resize='bilinear', drop_path_rate=0.1, cls_embed_twice=False),
    decode_head=dict(
        score_concat_index=2,
        neck=dict(in_channels=[768, 768, 768, 768])),
    test_cfg=dict(crop_size=(640, 640), stride=(426, 426)))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook')]  # dropout continues exactly on --resume
