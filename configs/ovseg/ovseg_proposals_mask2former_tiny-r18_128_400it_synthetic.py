# OVSeg's first stage with Mask2Former (Cheng et al., CVPR 2022; mmseg's head: masked attention,
# multi-scale deformable-attention pixel decoder) on the synthetic shapes, class-agnostic as
# ovseg_proposals_maskformer_*: a random-init ResNet-18 (width 16), 128×128, trained from scratch on
# a CPU with tools/train.py; validation: mask recall at IoU 0.5 (MaskRecall). Mask2Former's losses
# and matching at mmseg's settings (configs/mask2former), with 1024 sampled points instead of 12544.
_base_ = ['./ovseg_proposals_maskformer_tiny-r18_128_400it_synthetic.py']
width = 64
levels = 3
attn = dict(embed_dims=width, num_heads=4, dropout=0.0, batch_first=True)
ffn = dict(embed_dims=width, feedforward_channels=2 * width, num_fcs=2, ffn_drop=0.0,
           act_cfg=dict(type='ReLU', inplace=True))
model = dict(decode_head=dict(
    _delete_=True,
    type='ClassAgnosticMask2FormerHead',
    in_channels=[16, 32, 64, 128], in_index=[0, 1, 2, 3], strides=[4, 8, 16, 32],
    feat_channels=width, out_channels=width, num_queries=10, num_transformer_feat_level=levels,
    align_corners=False, enforce_decoder_input_project=False,
    pixel_decoder=dict(
        type='mmdet.MSDeformAttnPixelDecoder', num_outs=levels,
        norm_cfg=dict(type='GN', num_groups=8), act_cfg=dict(type='ReLU'),
        encoder=dict(num_layers=2, layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=width, num_heads=4, num_levels=levels, num_points=4,
                               im2col_step=64, dropout=0.0, batch_first=True, norm_cfg=None,
                               init_cfg=None),
            ffn_cfg=ffn), init_cfg=None),
        positional_encoding=dict(num_feats=width // 2, normalize=True), init_cfg=None),
    positional_encoding=dict(num_feats=width // 2, normalize=True),
    transformer_decoder=dict(return_intermediate=True, num_layers=3, init_cfg=None,
                             layer_cfg=dict(self_attn_cfg=attn, cross_attn_cfg=attn, ffn_cfg=ffn)),
    loss_cls=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=False, loss_weight=2.0,
                  reduction='mean', class_weight=[1.0, 0.1]),
    loss_mask=dict(type='mmdet.CrossEntropyLoss', use_sigmoid=True, reduction='mean',
                   loss_weight=5.0),
    loss_dice=dict(type='mmdet.DiceLoss', use_sigmoid=True, activate=True, reduction='mean',
                   naive_dice=True, eps=1.0, loss_weight=5.0),
    train_cfg=dict(num_points=1024, oversample_ratio=3.0, importance_sample_ratio=0.75,
                   assigner=dict(type='mmdet.HungarianAssigner', match_costs=[
                       dict(type='mmdet.ClassificationCost', weight=2.0),
                       dict(type='mmdet.CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
                       dict(type='mmdet.DiceCost', weight=5.0, pred_act=True, eps=1.0)]),
                   sampler=dict(type='mmdet.MaskPseudoSampler'))))
