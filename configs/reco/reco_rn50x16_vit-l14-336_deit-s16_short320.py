# Any image with ReCo: pass the collection (demo --index DIR, model.index=DIR); test short side 320
# as the authors' 320-pixel evaluation (here without their centre crop).
_base_ = [
    '../_base_/models/reco_rn50x16_vit-l14-336_deit-s16.py',
    '../_base_/default_runtime.py',
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 320), keep_ratio=True),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(pipeline=test_pipeline))
