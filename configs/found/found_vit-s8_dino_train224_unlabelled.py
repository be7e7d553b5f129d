# Train FOUND's background decoder on unlabelled images (valeoai/FOUND main_found_train.py,
# configs/found_DUTS-TR.yaml), for CLIP-DINOiser users without the authors' decoder_weights.pt:
# DINO ViT-S/8 frozen, 1x1 decoder on its raw keys, batch 50, AdamW lr 5e-2 with x0.95 every
# 50 steps, 500 steps; training-free pseudo-labels for the first 100 steps, then self-training
# (weight 4). 224 crops after a random rescale x0.1-3 (FOUND rescales the original size; here a
# 400-px short side is rescaled), flip 0.5. Not reproduced: FOUND's bilateral-solver refinement
# and its Gaussian-blur augmentation. Use the result with
#   --cfg-options model.background_teacher.head=work_dirs/found_vit-s8_dino_train224_unlabelled/iter_500.pth
_base_ = ['../_base_/default_runtime.py']
model = dict(type='FOUNDDecoder', dino=dict(model_name='vit_small_patch8_224.dino', pretrained=True),
             tau=0.3, stop_bkg_loss=100, w_self=4.0)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(4096, 400), ratio_range=(0.1, 3.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(224, 224)),
    dict(type='Pad', size=(224, 224), pad_val=dict(img=0, seg=255)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=50,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='ImageFolderDataset', data_root='data/DUTS-TR/DUTS-TR-Image',
                 pipeline=train_pipeline))
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-2))
param_scheduler = [dict(type='StepLR', by_epoch=False, step_size=50, gamma=0.95)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=500, val_interval=10 ** 9)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100),
                     logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False))
test_cfg = None
