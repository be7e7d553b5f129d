# DenseCLIP's schedule: AdamW lr 1e-4, wd 1e-4, backbone lr ×0.1, no decay on norms; poly decay
# (power 0.9, to 1e-6) over iterations 0-80k with a 1,500-iteration linear warm-up multiplied in
# (mmcv's lr_config policy='poly', warmup='linear', warmup_ratio=1e-6: both schedulers start at 0).
# Batch: the authors train on 8 GPUs x 4 images = 32, SyncBN in the head: per-GPU batch 4 here,
# run with tools/dist_train.sh CONFIG 8. The text tower is frozen, so it needs no lr multiplier.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1), 'norm': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=0, end=80000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
# the authors convert the backbone's BatchNorms to SyncBN (segmentation/train_denseclip.py:149,
# detection/train.py:184); the Runner does it for distributed runs only
sync_bn = 'torch'
