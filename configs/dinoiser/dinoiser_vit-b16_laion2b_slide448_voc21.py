# CLIP-DINOiser protocol (wysoczanska/clip_dinoiser configs/clip_dinoiser.yaml, main_eval.py, segmentation/configs/_base_/datasets/).
_base_ = ['../_base_/models/dinoiser_vit-b16_laion2b.py', '../_base_/datasets/voc21.py',
          '../_base_/datasets/test_short448.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/dinoiser/voc21.txt',
             allow_shared_names=False, apply_background=True)
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
