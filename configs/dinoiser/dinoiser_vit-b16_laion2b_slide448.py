_base_ = ['../_base_/models/dinoiser_vit-b16_laion2b.py', '../_base_/default_runtime.py']
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 448), keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(pipeline=test_pipeline))
