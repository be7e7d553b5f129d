# CASS protocol (MICV-yonsei/CASS @228ecdd configs/cfg_*.py; SCLIP's class lists).
_base_ = ['../_base_/models/cass_vit-b16_openai_dino-b8.py', '../_base_/datasets/coco_stuff171.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             decode_head=dict(type='RFCLIPHead', global_weight=0.2, nudge_weight=0.02,
                              cluster_distance=0.02, global_from='image', linkage='ward'),
             test_cfg=dict())
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
