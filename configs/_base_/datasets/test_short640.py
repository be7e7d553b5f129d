# Benchmark test pipeline: resize to short side 640 (long side at most 2560), keeping the aspect
# ratio (detectron2's ResizeShortestEdge(640, 2560), OVSeg's INPUT.MIN/MAX_SIZE_TEST).
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
# the same for class-index label maps with more than 255 classes (ADE20K-847, Pascal Context-459)
wide_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2560, 640), keep_ratio=True),
    dict(type='LoadWideAnnotations'),
    dict(type='PackSegInputs'),
]
