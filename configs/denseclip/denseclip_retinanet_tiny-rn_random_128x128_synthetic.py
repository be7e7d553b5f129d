# DenseCLIP RetinaNet on the synthetic shapes world (tools/make_synthetic_dataset.py writes its COCO
# annotations) with a small randomly initialised CLIP-architecture ResNet: proves on a CPU that
# detection trains. Everything else is the COCO model's (score map, context decoder, aux loss).
_base_ = ['../_base_/models/denseclip_retinanet_rn50_openai.py', '../_base_/default_runtime_det.py']
classes = ('red circle', 'green square', 'blue triangle', 'yellow star')
data_root = 'data/synthetic_shapes/'
tiny_rn = dict(embed_dim=64,
               vision_cfg=dict(image_size=128, layers=[1, 1, 1, 1], width=32, head_width=32),
               text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2))
model = dict(
    init_like_authors=False,  # OpenMMLab's init_cfg, as the README's curves were measured
    clip=dict(_delete_=True, model_name='tiny-rn', model_cfg=tiny_rn, pretrained=None,
              quick_gelu=False),  # random weights trained from scratch: no OpenAI activation to
              # match: GELU in the text tower, as the README's curves were measured (COCO/ADE20K: QuickGELU)
    class_names=list(classes),
    context_decoder=dict(width=64, heads=2, layers=3, dropout=0.1),
    backbone=dict(pos_grid=4),
    neck=dict(in_channels=[128, 256, 512, 1024], out_channels=64),
    bbox_head=dict(num_classes=4, in_channels=64, feat_channels=64, stacked_convs=2))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),   # records scale_factor
    dict(type='PackDetInputs'),
]  # no random augmentation: with RNGStateHook a resumed run repeats an unbroken one exactly
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 128), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                          'scale_factor')),
]
dataset = dict(type='CocoDataset', data_root=data_root, metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True), batch_sampler=None,
    dataset=dict(dataset, ann_file='annotations/instances_train.json',
                 data_prefix=dict(img='img_dir/train/'), filter_cfg=dict(filter_empty_gt=True),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, ann_file='annotations/instances_val.json',
                 data_prefix=dict(img='img_dir/val/'), test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'annotations/instances_val.json',
                     metric='bbox')
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
                     paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.0)}),
                     clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=30)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=50)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=50),
                     logger=dict(type='LoggerHook', interval=10))
custom_hooks = [dict(type='mmseg.RNGStateHook')]
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
