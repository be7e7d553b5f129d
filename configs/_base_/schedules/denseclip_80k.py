# DenseCLIP's schedule: AdamW lr 1e-4, wd 1e-4, backbone lr ×0.1, no decay on norms; 1,500 linear
# warm-up iterations then poly decay (power 0.9) to 1e-6 over 80k iterations. The text tower is
# frozen (no gradients), so it needs no lr multiplier.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1), 'norm': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=1500, end=80000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=8000)
val_cfg = dict(type='ValLoop')
