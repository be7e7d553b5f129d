# Any image (demo / Python API): short side 336, as in SCLIP's evaluation.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 336), keep_ratio=True),
    dict(type='PackSegInputs'),
]
