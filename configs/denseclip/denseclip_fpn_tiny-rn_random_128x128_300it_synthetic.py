# DenseCLIP on the synthetic shapes dataset (tools/make_synthetic_dataset.py) with a small,
# randomly initialised CLIP-architecture ResNet: proves on a CPU that training works.
_base_ = ['../_base_/default_runtime.py']
classes = ('background', 'red circle', 'green square', 'blue triangle', 'yellow star')
data_root = 'data/synthetic_shapes'
tiny_rn = dict(embed_dim=64,
               vision_cfg=dict(image_size=128, layers=[1, 1, 1, 1], width=32, head_width=32),
               text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2))
model = dict(
    init_like_authors=False,  # OpenMMLab's init_cfg, as the README's curves were measured
    type='DenseCLIP',
    clip=dict(model_name='tiny-rn', model_cfg=tiny_rn, pretrained=None,
              quick_gelu=False),  # random weights trained from scratch: no OpenAI activation to
              # match: GELU in the text tower, as the README's curves were measured (COCO/ADE20K: QuickGELU)
    class_names=list(classes),
    data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size=(128, 128),
                           mean=[122.770938, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305], bgr_to_rgb=True,
                           pad_val=0, seg_pad_val=255),
    backbone=dict(type='CLIPResNet'),
    decode_head=dict(
        type='DenseCLIPHead',
        n_ctx=8,
        context_decoder=dict(width=64, heads=2, layers=3, dropout=0.1),
        score_concat_index=3,
        neck=dict(type='mmseg.FPN', in_channels=[128, 256, 512, 1024], out_channels=64, num_outs=4),
        in_channels=[64, 64, 64, 64],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=64,
        dropout_ratio=0.1,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    test_cfg=dict(mode='whole'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]  # no random augmentation: with RNGStateHook a resumed run repeats an unbroken one exactly
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=dict(classes=classes),
               img_suffix='.png', seg_map_suffix='.png')
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(dataset, data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val'),
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
                     paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=30),
    dict(type='PolyLR', power=0.9, eta_min=1e-6, by_epoch=False, begin=30, end=300),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=50)
val_cfg = dict(type='ValLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=50),
                     logger=dict(interval=10),
                     visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
custom_hooks = [dict(type='RNGStateHook')]
