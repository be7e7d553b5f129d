# DenseCLIP (Rao et al., CVPR 2022) with RN50: FPN + FPNHead, 8 context tokens, 3-layer context
# decoder, score map (150 classes) concatenated to level 3, identity loss 0.4 (τ = 0.07).
model = dict(
    init_like_authors=True,  # their train scripts never call model.init_weights(): neck and
                             # heads as built (models/authors_init.py)
    type='DenseCLIP',
    clip=dict(model_name='RN50', pretrained='openai', quick_gelu=True),  # OpenAI weights: QuickGELU
    data_preprocessor=dict(type='mmseg.SegDataPreProcessor', size=(512, 512),
                           mean=[122.770938, 116.7460125, 104.09373615],
                           std=[68.5005327, 66.6321579, 70.32316305], bgr_to_rgb=True,
                           pad_val=0, seg_pad_val=255),
    # attnpool positions: resized once, bilinearly, 7→16 (512 crops / 32) and trained there (DenseCLIP)
    backbone=dict(type='CLIPResNet', pos_grid=16, pos_resize='bilinear'),
    decode_head=dict(
        type='DenseCLIPHead',
        n_ctx=8,
        name_length=5,
        context_decoder=dict(width=256, heads=4, layers=3, dropout=0.1),
        score_concat_index=3,
        tau=0.07,
        identity_weight=0.4,
        neck=dict(type='mmseg.FPN', in_channels=[256, 512, 1024, 2048], out_channels=256, num_outs=4),
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=256,
        dropout_ratio=0.1,
        norm_cfg=dict(type='SyncBN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    test_cfg=dict(mode='slide', crop_size=(512, 512), stride=(341, 341)))
