# CorrCLIP protocol (zdk258/CorrCLIP @103bc18 CorrCLIPv1/configs/cfg_*.py; their class lists and
# released region masks, data/region_masks/voc).
_base_ = ['../_base_/models/corrclip_vit-b16_metaclip_dino-b8.py', '../_base_/datasets/voc20.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/corrclip/voc20.txt',
             allow_shared_names={{_base_.allow_shared_names}},
             mask_source=dict(root='data/region_masks/voc'), test_cfg=dict())
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
