# Any image (demo / Python API): short side 336, as in SCLIP's evaluation.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 336), keep_ratio=True),
    dict(type='PackSegInputs'),
]
# mmseg's MMSegInferencer reads its pipeline from here
test_dataloader = dict(batch_size=1, num_workers=0, dataset=dict(pipeline=test_pipeline))
