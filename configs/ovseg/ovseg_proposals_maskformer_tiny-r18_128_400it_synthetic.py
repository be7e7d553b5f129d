# OVSeg's first stage on the synthetic shapes (tools/make_synthetic_dataset.py): a small MaskFormer
# (mmseg's head, one class "region": OVSeg trains MaskFormer proposals; here class-agnostic) on a
# random-init ResNet-18 (width 16), trained from scratch with tools/train.py on a CPU. Validation:
# mask recall at IoU 0.5 of the ground truth's class regions (MaskRecall). Its checkpoint feeds
# model.mask_source=dict(type='ProposalMasks', config=<this file>, checkpoint=...).
_base_ = ['../_base_/default_runtime.py']
classes = ('background', 'red circle', 'green square', 'blue triangle', 'yellow star')
data_root = 'data/synthetic_shapes'
width = 64
layer = dict(embed_dims=width, num_heads=4, attn_drop=0.0, proj_drop=0.0, dropout_layer=None,
             batch_first=True)
model = dict(
    type='ProposalGenerator',
    data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                           seg_pad_val=255, size=(128, 128)),
    backbone=dict(type='ResNet', depth=18, base_channels=16, num_stages=4, out_indices=(0, 1, 2, 3),
                  norm_cfg=dict(type='BN', requires_grad=True), style='pytorch'),
    decode_head=dict(
        type='ClassAgnosticMaskFormerHead',
        in_channels=[16, 32, 64, 128], in_index=[0, 1, 2, 3], feat_channels=width,
        out_channels=width, num_queries=10, enforce_decoder_input_project=False,
        pixel_decoder=dict(type='mmdet.PixelDecoder', norm_cfg=dict(type='GN', num_groups=8),
                           act_cfg=dict(type='ReLU')),
        positional_encoding=dict(num_feats=width // 2, normalize=True),
        transformer_decoder=dict(
            return_intermediate=True, num_layers=3, init_cfg=None,
            layer_cfg=dict(self_attn_cfg=layer, cross_attn_cfg=layer,
                           ffn_cfg=dict(embed_dims=width, feedforward_channels=2 * width, num_fcs=2,
                                        act_cfg=dict(type='ReLU', inplace=True), ffn_drop=0.0,
                                        dropout_layer=None, add_identity=True)))),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
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
val_evaluator = dict(type='MaskRecall', iou_thr=0.5)
test_evaluator = val_evaluator
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=5e-4, weight_decay=1e-4),
                     clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=400)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400, val_interval=100)
val_cfg = dict(type='ValLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=100),
                     logger=dict(interval=20),
                     visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
custom_hooks = [dict(type='RNGStateHook')]
