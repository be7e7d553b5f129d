# DenseCLIP (Rao et al., CVPR 2022) with RN50 on ADE20K-150, 512 crops, 80k iterations.
_base_ = [
    '../_base_/models/denseclip_fpn_rn50_openai.py',
    '../_base_/datasets/ade20k150_train512.py',
    '../_base_/schedules/denseclip_80k.py',
    '../_base_/default_runtime.py',
]
# class names: mmseg's ADE20K dataset CLASSES, as DenseCLIP's train_denseclip.py passes them
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/mmseg/ade20k150.txt')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=8000, max_keep_ckpts=2))
custom_hooks = [dict(type='RNGStateHook')]  # dropout continues exactly on --resume
