# DenseCLIP Mask R-CNN (Rao et al., CVPR 2022; detection/configs/mask_rcnn_denseclip_r50_fpn_1x_coco.py):
# mmdet's Mask R-CNN on CLIP RN50 with the score map concatenated to c4 and the auxiliary loss.
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py']
model = dict(
    init_like_authors=True,  # their train scripts never call model.init_weights(): neck and
                             # heads as built (models/authors_init.py)
    type='DenseCLIPMaskRCNN',
    clip=dict(model_name='RN50', pretrained='openai', quick_gelu=True),  # OpenAI weights: QuickGELU
    class_names='{{fileDirname}}/../datasets/class_names/coco/coco80.txt',
    n_ctx=8, name_length=5, tau=0.07, aux_weight=1.0,
    context_decoder=dict(width=256, heads=4, layers=3, dropout=0.1),
    data_preprocessor=dict(mean=[122.770938, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305], bgr_to_rgb=True,
                           pad_size_divisor=32),
    backbone=dict(_delete_=True, type='mmseg.CLIPResNet', pos_grid=42, pos_resize='crop'),
    neck=dict(in_channels=[256, 512, 1024, 2048], num_outs=5))
