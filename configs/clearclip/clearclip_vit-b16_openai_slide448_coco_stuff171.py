# ClearCLIP protocol (mc-lan/ClearCLIP clearclip_segmentor.py, configs/cfg_*.py, cls_*.txt).
_base_ = ['../_base_/models/clearclip_vit-b16_openai_paper.py',
          '../_base_/datasets/coco_stuff171.py', '../_base_/datasets/test_short448.py',
          '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}})
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
