_base_ = [
    '../_base_/models/dinoiser_vit-b16_laion2b.py',
    '../_base_/datasets/context59.py',
    '../_base_/default_runtime.py',
]
model = dict(class_names={{_base_.class_names}},
             allow_shared_names={{_base_.allow_shared_names}}, apply_background=False)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 448), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
