# ResCLIP (NACLIP host) on any image: slide 224/112 at short side 336, the ADE20K weights.
_base_ = [
    '../_base_/models/resclip_vit-b16_openai_paper.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
model = dict(attention=dict(rcs=(2.0, 0.3), sfr=(2.1, 0.7), temp_thd=0.25))
