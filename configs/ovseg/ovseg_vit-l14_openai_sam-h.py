# Segment any image: SAM ViT-H's automatic masks (the released sam_vit_h_4b8939.pth, set
# model.mask_source.checkpoint), each named by CLIP; test short side 640 as OVSeg's evaluation.
_base_ = [
    '../_base_/models/ovseg_vit-l14_openai.py',
    '../_base_/default_runtime.py',
]
model = dict(mask_source=dict(type='SAMMasks', variant='vit_h', checkpoint=None))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(pipeline=test_pipeline))
