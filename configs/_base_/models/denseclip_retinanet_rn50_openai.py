# DenseCLIP RetinaNet (Rao et al., CVPR 2022; detection/configs/retinanet_denseclip_r50_fpn_1x_coco.py):
# mmdet's RetinaNet on CLIP RN50, 8 context tokens (13 - 5), 3-layer context decoder, score map
# (80 classes, / τ = 0.07) concatenated to c4 before the FPN, auxiliary box-mask loss.
_base_ = ['mmdet::_base_/models/retinanet_r50_fpn.py']
model = dict(
    init_like_authors=True,  # their train scripts never call model.init_weights(): neck and
                             # heads as built (models/authors_init.py)
    type='DenseCLIPRetinaNet',
    clip=dict(model_name='RN50', pretrained='openai', quick_gelu=True),  # OpenAI weights: QuickGELU
    class_names='{{fileDirname}}/../datasets/class_names/coco/coco80.txt',
    n_ctx=8, name_length=5, tau=0.07, aux_weight=1.0,
    context_decoder=dict(width=256, heads=4, layers=3, dropout=0.1),
    data_preprocessor=dict(mean=[122.770938, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305], bgr_to_rgb=True,
                           pad_size_divisor=32),
    # attnpool positions: resized once, bilinearly, 7→42 (input_resolution 1344 / 32), then the
    # top-left h×w cells for each input (detection/denseclip/models.py:77, 238-243)
    backbone=dict(_delete_=True, type='mmseg.CLIPResNet', pos_grid=42, pos_resize='crop'),
    neck=dict(in_channels=[256, 512, 1024, 2048], start_level=1, add_extra_convs='on_input',
              num_outs=5))
