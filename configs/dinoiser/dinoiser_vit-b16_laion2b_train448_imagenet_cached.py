# CLIP-DINOiser training with the teachers' targets cached on disk: every epoch sees the same
# 448 centre crop of each image (no random crop, flip or colour jitter), so from the second epoch
# on no DINO forward runs. Trades augmentation for about half the training compute.
_base_ = ['./dinoiser_vit-b16_laion2b_train448_imagenet.py']
model = dict(teacher_cache_dir='work_dirs/dinoiser_teacher_cache')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 448), keep_ratio=True),
    dict(type='CenterCrop', crop_size=448),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
