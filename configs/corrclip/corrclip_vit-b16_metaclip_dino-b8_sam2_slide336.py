# CorrCLIP on any image with SAM 2 computing the regions (the authors' on-the-fly setting,
# corrclip_segmentor.py:263-272: Hiera-L, 8 points per side, IoU and stability 0.4).
# Needs `pip install sam2` and sam2_hiera_large.pt: --cfg-options model.mask_source.checkpoint=...
_base_ = ['../_base_/models/corrclip_vit-b16_metaclip_dino-b8.py', '../_base_/datasets/any_image.py',
          '../_base_/default_runtime.py']
model = dict(mask_source=dict(_delete_=True, type='SAM2Masks', model_cfg='sam2_hiera_l.yaml',
                              checkpoint='checkpoints/sam2_hiera_large.pt'))
