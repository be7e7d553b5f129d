# MaskCLIP protocol (chongzhou96/MaskCLIP configs/maskclip/, tools/maskclip_utils/prompt_engineering.py).
_base_ = ['../_base_/models/maskclip_vit-b16_openai_paper.py', '../_base_/datasets/context59.py',
          '../_base_/datasets/test_fit520.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/maskclip/context59.txt',
             allow_shared_names=False)
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
