# Name masks you give (clipseg label-masks, clipseg.classify_masks): no mask source.
_base_ = [
    '../_base_/models/ovseg_vit-l14_openai.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
