# CLIP-DINOiser protocol (wysoczanska/clip_dinoiser configs/clip_dinoiser.yaml, main_eval.py, segmentation/configs/_base_/datasets/).
_base_ = ['../_base_/models/dinoiser_vit-b16_laion2b.py', '../_base_/datasets/context60.py',
          '../_base_/datasets/test_short448.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/dinoiser/context60.txt',
             allow_shared_names=False)
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
