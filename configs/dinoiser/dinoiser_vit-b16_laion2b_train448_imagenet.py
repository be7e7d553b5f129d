# Train CLIP-DINOiser's two heads on unlabelled images (the paper: 1,000 ImageNet images,
# 448 crops, batch 16, AdamW lr 5e-5 for obj_proj and 1e-2 for bkg_decoder, ×0.1 at step 5000).
_base_ = ['../_base_/models/dinoiser_vit-b16_laion2b.py', '../_base_/default_runtime.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 448), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(448, 448)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ImageFolderDataset', data_root='data/imagenet/train', num_samples=1000,
                 pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'bkg_decoder': dict(lr_mult=200.0)}))  # 1e-2 / 5e-5
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[5000], gamma=0.1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6250, val_interval=10 ** 9)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000),
                     logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False))
test_cfg = None  # evaluate with the dinoiser_*_slide448_{dataset} configs and the trained heads
custom_hooks = [dict(type='RNGStateHook')]  # dropout continues exactly on --resume
