# Trident on any image: VOC21's settings (short side 448, stride 224, thresholds 0.2) without a
# probability threshold.
_base_ = ['../_base_/models/trident_vit-b16_openai_dino-b16_sam-b.py', '../_base_/datasets/any_image.py',
          '../_base_/default_runtime.py']
model = dict(test_cfg=dict(coarse_thresh=0.2))
