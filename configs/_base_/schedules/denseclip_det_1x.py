# DenseCLIP detection 1x (detection/configs/*_denseclip_*_1x_coco.py): mmdet's 12 epochs, steps at
# 8 and 11, 500-iteration linear warm-up from 0.001; AdamW (lr set per detector), weight decay
# 1e-4, backbone lr × 0.1, no decay on norms, gradient clipping at 0.1; 16 images per batch.
_base_ = ['mmdet::_base_/schedules/schedule_1x.py']
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1), 'norm': dict(decay_mult=0.0)}),
    clip_grad=dict(max_norm=0.1, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=16)
# the authors convert the backbone's BatchNorms to SyncBN (segmentation/train_denseclip.py:149,
# detection/train.py:184); the Runner does it for distributed runs only
sync_bn = 'torch'
