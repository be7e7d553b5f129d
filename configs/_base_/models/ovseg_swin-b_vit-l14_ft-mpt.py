# OVSeg (Liang et al., CVPR 2023) as released: ovseg_swinbase_vitL14_ft_mpt.pth (ov-seg
# GETTING_STARTED.md), configs/ovseg_swinB_vitL_bs32_120k.yaml. First stage: MaskFormer on Swin-B
# (window 12, 384 pre-training), BasePixelDecoder (256, GN), 6-layer post-norm DETR decoder, 100
# queries, class embeddings by a 2-layer MLP (1024 → 768) scored against the text (temperature 100,
# a learned no-object embedding). Second stage: the fine-tuned CLIP ViT-L/14 with depth-3 mask
# prompts names each proposal (MASK_THR 0.4, expand 1.0, mean fill, 'vild' templates); the two
# class scores are ensembled, p^(1-w)·p_clip^w, w 0.7 (0.6 Pascal Context, 0.45 VOC).
# Weights: python tools/convert_checkpoint.py ovseg_swinbase_vitL14_ft_mpt.pth \
#     checkpoints/ovseg_swin-b_vit-l14_ft-mpt.pth --from ovseg
# writes the proposal stage + prompts (--checkpoint) and checkpoints/ovseg_swin-b_vit-l14_ft-mpt_clip.pt
# (the fine-tuned CLIP, read by model.clip.pretrained).
width = 256
layer = dict(embed_dims=width, num_heads=8, attn_drop=0.1, proj_drop=0.1, dropout_layer=None,
             batch_first=True)
model = dict(
    type='OVSegSegmentor',
    clip=dict(model_name='ViT-L-14', pretrained='checkpoints/ovseg_swin-b_vit-l14_ft-mpt_clip.pt',
              quick_gelu=True, preprocess_tag='openai'),
    mask_prompt_depth=3,
    templates='vild',
    proposals=dict(
        type='OVSegProposals',
        mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375), size_divisor=32,
        backbone=dict(type='mmseg.SwinTransformer', pretrain_img_size=384, embed_dims=128,
                      patch_size=4, window_size=12, mlp_ratio=4, depths=(2, 2, 18, 2),
                      num_heads=(4, 8, 16, 32), strides=(4, 2, 2, 2), out_indices=(0, 1, 2, 3),
                      qkv_bias=True, qk_scale=None, patch_norm=True, drop_rate=0.0,
                      attn_drop_rate=0.0, drop_path_rate=0.3, use_abs_pos_embed=False,
                      init_cfg=None),
        head=dict(
            type='OpenVocabMaskFormerHead', in_channels=[128, 256, 512, 1024],
            in_index=[0, 1, 2, 3], feat_channels=width, out_channels=width, num_queries=100,
            embed_dims=768, embed_hidden_dims=1024, embed_layers=2, temperature=100.0,
            no_object_weight=0.1, enforce_decoder_input_project=False,
            pixel_decoder=dict(type='mmdet.PixelDecoder', norm_cfg=dict(type='GN', num_groups=32),
                               act_cfg=dict(type='ReLU')),
            positional_encoding=dict(num_feats=width // 2, normalize=True),
            transformer_decoder=dict(
                return_intermediate=True, num_layers=6, init_cfg=None,
                layer_cfg=dict(self_attn_cfg=layer, cross_attn_cfg=layer,
                               ffn_cfg=dict(embed_dims=width, feedforward_channels=2048,
                                            num_fcs=2, act_cfg=dict(type='ReLU', inplace=True),
                                            ffn_drop=0.1, dropout_layer=None,
                                            add_identity=True))))),
    test_cfg=dict(mask_thr=0.4, expand_ratio=1.0, temperature=100.0, clip_ensemble=True,
                  ensemble_weight=0.7))
