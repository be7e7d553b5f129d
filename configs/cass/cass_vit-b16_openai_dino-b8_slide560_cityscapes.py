# CASS protocol (MICV-yonsei/CASS @228ecdd configs/cfg_*.py; SCLIP's class lists).
_base_ = ['../_base_/models/cass_vit-b16_openai_dino-b8.py', '../_base_/datasets/cityscapes.py',
          '../_base_/datasets/test_short560.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             attention=dict(rescale_singular=False),
             decode_head=dict(type='RFCLIPHead', global_weight=0.1, nudge_weight=0.03,
                              cluster_distance=0.14, global_from='window', linkage='ward'),
             test_cfg=dict())
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
