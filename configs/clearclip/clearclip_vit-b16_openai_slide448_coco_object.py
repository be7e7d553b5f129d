# ClearCLIP protocol (mc-lan/ClearCLIP clearclip_segmentor.py, configs/cfg_*.py, cls_*.txt).
_base_ = ['../_base_/models/clearclip_vit-b16_openai_paper.py', '../_base_/datasets/coco_object.py',
          '../_base_/datasets/test_short448.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/clearclip/coco_object.txt',
             allow_shared_names=False, test_cfg=dict(prob_thd=0.4))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
