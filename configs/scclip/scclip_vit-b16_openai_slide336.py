# SC-CLIP on any image: slide 224/112 at short side 336 (SCLIP's harness).
_base_ = [
    '../_base_/models/zero_shot_vit-b16_openai.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
model = dict(attention='scclip')
