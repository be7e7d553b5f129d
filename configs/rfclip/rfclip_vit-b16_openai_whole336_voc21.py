# RF-CLIP protocol (liblacklucy/RF-CLIP @c2b333e configs/cfg_*.py).
_base_ = ['../_base_/models/rfclip_vit-b16_openai_paper.py', '../_base_/datasets/voc21.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}}, allow_shared_names={{_base_.allow_shared_names}},
             decode_head=dict(type='RFCLIPHead', global_weight=0.1, nudge_weight=0.03,
                              cluster_distance=0.1, global_from='window'),
             test_cfg=dict(mode='whole', prob_thd=0.1))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
