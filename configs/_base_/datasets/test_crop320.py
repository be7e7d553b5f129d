# The PiCIE/STEGO evaluation view (ReCo on Cityscapes-27 and COCO-Stuff-27): labels loaded first, then
# image and labels resized to short side 320 with nearest neighbours and centre-cropped to 320×320
# (NoelShin/reco utils/utils.py:65-88, 101-120); predictions are scored on the crop.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='ShortSideCenterCrop', size=320, interpolation='nearest'),
    dict(type='PackSegInputs'),
]
