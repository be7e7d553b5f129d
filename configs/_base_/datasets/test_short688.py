# Benchmark test pipeline: resize to short side 688 (long side at most 2048), keeping the aspect ratio.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 688), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
