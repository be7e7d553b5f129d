# ResCLIP protocol (yvhangyang/ResCLIP configs/cfg_*.py), NACLIP host.
_base_ = ['../_base_/models/resclip_vit-b16_openai_paper.py', '../_base_/datasets/coco_object.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             attention=dict(rcs=(2.0, 0.4), sfr=(1.8, 0.7), temp_thd=0.11),
             test_cfg=dict(prob_thd=0.1))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
