_base_ = [
    '../_base_/models/clearclip_vit-b16_openai.py',
    '../_base_/datasets/ade20k150.py',
    '../_base_/default_runtime.py',
]
model = dict(class_names={{_base_.class_names}},
             allow_shared_names={{_base_.allow_shared_names}}, test_cfg=dict())
