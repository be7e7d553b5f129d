# Trident protocol (YuHengsss/Trident @a93b346 configs/cfg_*.py; ProxyCLIP's class lists).
_base_ = ['../_base_/models/trident_vit-b16_openai_dino-b16_sam-b.py', '../_base_/datasets/voc20.py',
          '../_base_/datasets/test_short336.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/proxyclip/voc20.txt',
             allow_shared_names={{_base_.allow_shared_names}},
             test_cfg=dict(stride=(112, 112), prob_thd=0.0, coarse_thresh=0.2, cos_fac=0.0,
                           refine_neg_cos=True, sam_halves=False))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
