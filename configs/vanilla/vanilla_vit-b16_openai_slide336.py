_base_ = [
    '../_base_/models/zero_shot_vit-b16_openai.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
model = dict(attention='vanilla')
