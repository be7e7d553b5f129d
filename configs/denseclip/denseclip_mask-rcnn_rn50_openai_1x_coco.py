# DenseCLIP mask-rcnn, CLIP RN50 (OpenAI), COCO 1x: the authors' detection/configs/mask_rcnn_denseclip_r50_fpn_1x_coco.py
# (AdamW lr 2e-4, 1333x800, flip, 16 images per batch over 8 GPUs: 2 per GPU here).
_base_ = ['../_base_/models/denseclip_mask-rcnn_rn50_openai.py', 'mmdet::_base_/datasets/coco_instance.py',
          '../_base_/schedules/denseclip_det_1x.py', '../_base_/default_runtime_det.py']
optim_wrapper = dict(optimizer=dict(lr=2e-4))
