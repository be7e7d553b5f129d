# OVSeg's published setting (ov-seg GETTING_STARTED.md, Swin-B + ViT-L/14 row): short side 640
# (long ≤ 2560), the authors' class names (class_names/ovseg/), ensemble weight 0.6.
_base_ = ['../_base_/models/ovseg_swin-b_vit-l14_ft-mpt.py', '../_base_/datasets/context59.py',
          '../_base_/datasets/test_short640.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/ovseg/context59.txt',
             test_cfg=dict(ensemble_weight=0.6))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
