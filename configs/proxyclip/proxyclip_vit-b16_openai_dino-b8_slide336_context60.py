# ProxyCLIP protocol (mc-lan/ProxyCLIP @e7b767f configs/cfg_*.py; their class lists).
_base_ = ['../_base_/models/proxyclip_vit-b16_openai_dino-b8.py', '../_base_/datasets/context60.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/proxyclip/context60.txt',
             allow_shared_names={{_base_.allow_shared_names}}, test_cfg=dict(prob_thd=0.15))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
