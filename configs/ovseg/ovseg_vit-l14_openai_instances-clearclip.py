# Segment any image with no mask model: clipseg's own training-free instances (ClearCLIP ViT-B/16
# labels the image with your classes, each connected region of a class is a mask), then each mask
# is named again by CLIP ViT-L/14 on its masked crop, as OVSeg names proposals. Short side 640.
_base_ = [
    '../_base_/models/ovseg_vit-l14_openai.py',
    '../_base_/default_runtime.py',
]
model = dict(mask_source=dict(type='InstanceMasks', min_area=64,
                              segmentor=dict(config='clearclip_vit-b16_openai_slide336')))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(pipeline=test_pipeline))
