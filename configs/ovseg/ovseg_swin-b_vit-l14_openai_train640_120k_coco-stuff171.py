# OVSeg's first stage trained as the authors train it (ov-seg configs/ovseg_swinB_vitL_bs32_120k.yaml,
# GETTING_STARTED.md "Training baseline w/ original CLIP"): COCO-Stuff-171 train2017, the Swin-B
# MaskFormer's queries classified by CLIP ViT-L/14's text embeddings of the 171 names ('vild'
# templates) and a learned no-object embedding, CLIP frozen; MaskFormer's losses (no-object 0.1,
# focal 20, dice 1). Data: short side chosen from 320..1280 (step 64, long ≤ 2560), 640×640 crops,
# flips, SSD colour jitter; 32 images a step (4 per GPU on 8: tools/dist_train.sh CONFIG 8), 120k
# iterations; validation on ADE20K-150 as theirs (DATASETS.TEST). For the published model use the
# mask-adapted CLIP instead (model.clip.pretrained=FILE): the authors' final first stage.
# Backbone: Swin-B ImageNet-22k 384 as the authors' MODEL.WEIGHTS (swin_base_patch4_window12_384_22k,
# github.com/microsoft/Swin-Transformer), converted once to mmseg's layout:
#     python tools/convert_checkpoint.py swin_base_patch4_window12_384_22k.pth \
#         checkpoints/swin-b_in22k_384_mmseg.pth --from swin
_base_ = ['../_base_/models/ovseg_swin-b_vit-l14_ft-mpt.py', '../_base_/datasets/ade20k150.py',
          '../_base_/datasets/test_short640.py', '../_base_/default_runtime.py']
crop_size = (640, 640)
model = dict(
    clip=dict(_delete_=True, model_name='ViT-L-14', pretrained='openai', quick_gelu=True),
    mask_prompt_depth=0,
    train_parts=('proposals',),
    class_names='{{fileDirname}}/../_base_/datasets/class_names/ovseg/coco_stuff171.txt',
    proposals=dict(backbone=dict(init_cfg=dict(
        _delete_=True, type='Pretrained', checkpoint='checkpoints/swin-b_in22k_384_mmseg.pth'))),
    # the pad is ignored ground truth; images arrive unnormalised (OVSegProposals normalises)
    data_preprocessor=dict(type='SegDataPreProcessor', mean=None, std=None, bgr_to_rgb=True,
                           size=crop_size, pad_val=0, seg_pad_val=255))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomChoiceResize', scales=[int(x * 0.1 * 640) for x in range(5, 21)],
         resize_type='ResizeShortestEdge', max_size=2560),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='COCOStuffDataset', data_root='data/coco_stuff164k',
                 data_prefix=dict(img_path='images/train2017', seg_map_path='annotations/train2017'),
                 pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=2, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='ADE20KDataset', data_root='data/ade/ADEChallengeData2016',
                                   data_prefix=dict(img_path='images/validation',
                                                    seg_map_path='annotations/validation'),
                                   pipeline={{_base_.test_pipeline}}))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
# SOLVER: AdamW 6e-5, weight decay 0.01 (none on norms and embeddings), full-model gradient clip
# 0.01, 1500 warm-up iterations from 1e-6, poly 0.9 to 120k
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(norm_decay_mult=0.0, custom_keys={
        'query_embed': dict(decay_mult=0.0), 'non_object_embedding': dict(decay_mult=0.0),
        'relative_position_bias_table': dict(decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=1500, end=120000),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=120000, val_interval=5000)
val_cfg = dict(type='ValLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, max_keep_ckpts=2),
                     logger=dict(interval=50))
custom_hooks = [dict(type='ValClassesHook',
                     classes='{{fileDirname}}/../_base_/datasets/class_names/ovseg/ade20k150.txt'),
                dict(type='RNGStateHook')]
