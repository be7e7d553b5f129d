# SC-CLIP protocol (SuleBai/SC-CLIP configs/cfg_*.py).
_base_ = ['../_base_/models/scclip_vit-b16_openai_paper.py', '../_base_/datasets/coco_object.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             test_cfg=dict(logit_scale=55.0, prob_thd=0.35))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
