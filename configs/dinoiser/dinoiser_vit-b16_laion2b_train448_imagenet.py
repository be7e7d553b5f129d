# Train CLIP-DINOiser's two heads as the authors do (wysoczanska/clip_dinoiser train.py,
# configs/clip_dinoiser.yaml): 1,000 ImageNet images drawn with replacement, short side 448, random
# 448 crop, flip, brightness-only ColorJitter(0.5); batch 16 (63 batches per epoch, the last one of
# 8), 100 epochs = 6,300 iterations; AdamW lr 5e-5 for obj_proj and 1e-2 for bkg_decoder, x0.1 at
# iteration 5,000. Teachers: DINO ViT-B/16 correlations and FOUND's trained decoder on DINO ViT-S/8
# (the model base); its map is resized bilinearly to the CLIP grid and thresholded at 0.5.
_base_ = ['../_base_/models/dinoiser_vit-b16_laion2b.py', '../_base_/default_runtime.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 448), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(448, 448)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='ColorJitter', brightness=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ImageFolderDataset', data_root='data/imagenet/train', num_samples=1000,
                 replace=True, pipeline=train_pipeline))
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=5e-5, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'bkg_decoder': dict(lr_mult=200.0)}))  # 1e-2 / 5e-5
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, milestones=[5000], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10 ** 9)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000),
                     logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False))
test_cfg = None  # evaluate with the dinoiser_*_slide448_{dataset} configs and the trained heads
custom_hooks = [dict(type='RNGStateHook')]  # dropout continues exactly on --resume
