_base_ = [
    '../_base_/models/maskclip_rn50_openai.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
