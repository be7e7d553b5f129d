# CASS protocol (MICV-yonsei/CASS @228ecdd configs/cfg_*.py; SCLIP's class lists).
_base_ = ['../_base_/models/cass_vit-b16_openai_dino-b8.py', '../_base_/datasets/voc21.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             decode_head=dict(type='RFCLIPHead', global_weight=0.10, nudge_weight=0.03,
                              cluster_distance=0.10, global_from='window', linkage='ward'),
             test_cfg=dict(mode='whole', prob_thd=0.1))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
