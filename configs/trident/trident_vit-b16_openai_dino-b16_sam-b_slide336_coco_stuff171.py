# Trident protocol (YuHengsss/Trident @a93b346 configs/cfg_*.py; ProxyCLIP's class lists).
_base_ = ['../_base_/models/trident_vit-b16_openai_dino-b16_sam-b.py', '../_base_/datasets/coco_stuff171.py',
          '../_base_/datasets/test_short448.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/proxyclip/coco_stuff171.txt',
             allow_shared_names={{_base_.allow_shared_names}},
             test_cfg=dict(stride=(224, 224), prob_thd=0.0, coarse_thresh=0.05, cos_fac=1.2,
                           refine_neg_cos=True, sam_halves=False))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
