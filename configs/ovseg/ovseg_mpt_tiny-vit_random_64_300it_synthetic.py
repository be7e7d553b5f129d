# Mask prompt tuning (OVSeg) on the synthetic shapes dataset (tools/make_synthetic_dataset.py)
# with a small random-weight CLIP ViT, frozen: proves on a CPU that only the prompts train and that
# they raise the mask classification above the untuned CLIP (mask_prompt_depth=0, same weights).
# Validation names the ground-truth regions (AnnotationMasks): aAcc is the area-weighted
# accuracy of the masks' labels.
_base_ = ['../_base_/default_runtime.py']
classes = ('background', 'red circle', 'green square', 'blue triangle', 'yellow star')
data_root = 'data/synthetic_shapes'
tiny_vit = dict(embed_dim=64,
                vision_cfg=dict(image_size=64, layers=3, width=128, head_width=32, patch_size=8),
                text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=2, layers=2))
model = dict(
    type='OVSegSegmentor',
    clip=dict(model_name='tiny-vit', model_cfg=tiny_vit, pretrained=None),
    mask_source=dict(type='AnnotationMasks'),
    mask_prompt_depth=3,
    class_names=list(classes),
    templates='a_photo_of',
    test_cfg=dict(mask_thr=0.5, keep_logits=False))
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
dataset = dict(type='BaseSegDataset', data_root=data_root, metainfo=dict(classes=classes),
               img_suffix='.png', seg_map_suffix='.png', pipeline=pipeline)
train_dataloader = dict(
    batch_size=8, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(dataset, data_prefix=dict(img_path='img_dir/train', seg_map_path='ann_dir/train')))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(dataset, data_prefix=dict(img_path='img_dir/val', seg_map_path='ann_dir/val')))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=0.05, weight_decay=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-2, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', eta_min=0.0, by_epoch=False, begin=30, end=300),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100)
val_cfg = dict(type='ValLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=100),
                     logger=dict(interval=20),
                     visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
custom_hooks = [dict(type='RNGStateHook')]
