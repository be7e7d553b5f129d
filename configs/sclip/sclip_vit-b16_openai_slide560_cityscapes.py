# SCLIP protocol (wangf3014/SCLIP configs/cfg_*.py); also the common protocol (configs/common).
_base_ = [
    '../_base_/models/sclip_vit-b16_openai.py',
    '../_base_/datasets/cityscapes.py',
    '../_base_/default_runtime.py',
]
model = dict(class_names={{_base_.class_names}},
             allow_shared_names={{_base_.allow_shared_names}})
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 560), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
