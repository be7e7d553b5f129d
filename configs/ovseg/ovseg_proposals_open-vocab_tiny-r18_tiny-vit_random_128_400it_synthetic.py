# OVSeg's own first stage trained as the authors train it, on the synthetic shapes: a MaskFormer
# whose queries are classified by CLIP's text embeddings of the dataset's class names (+ a learned
# no-object embedding), CLIP frozen (ov-seg ovseg_model.py:154-189). Here: a random-init ResNet-18
# (width 16) and a small random CLIP ViT (its text tower still gives each class its own embedding),
# 400 iterations from scratch on a CPU. Validation segments with the proposal classifier alone
# (clip_ensemble=False: a random CLIP's crop scores would only add noise; with trained weights the
# authors' ensemble applies, configs/ovseg/ovseg_swin-b_vit-l14_ft-mpt_*).
_base_ = ['./ovseg_mpt_tiny-vit_random_64_300it_synthetic.py']
width = 64
layer = dict(embed_dims=width, num_heads=4, attn_drop=0.0, proj_drop=0.0, dropout_layer=None,
             batch_first=True)
model = dict(
    mask_source=None,
    mask_prompt_depth=0,
    train_parts=('proposals',),
    proposals=dict(
        type='OVSegProposals',
        backbone=dict(type='ResNet', depth=18, base_channels=16, num_stages=4,
                      out_indices=(0, 1, 2, 3), norm_cfg=dict(type='BN', requires_grad=True),
                      style='pytorch'),
        head=dict(
            type='OpenVocabMaskFormerHead', in_channels=[16, 32, 64, 128], in_index=[0, 1, 2, 3],
            feat_channels=width, out_channels=width, num_queries=10, embed_dims=64,
            embed_hidden_dims=128, embed_layers=2, enforce_decoder_input_project=False,
            pixel_decoder=dict(type='mmdet.PixelDecoder', norm_cfg=dict(type='GN', num_groups=8),
                               act_cfg=dict(type='ReLU')),
            positional_encoding=dict(num_feats=width // 2, normalize=True),
            transformer_decoder=dict(
                return_intermediate=True, num_layers=3, init_cfg=None,
                layer_cfg=dict(self_attn_cfg=layer, cross_attn_cfg=layer,
                               ffn_cfg=dict(embed_dims=width, feedforward_channels=2 * width,
                                            num_fcs=2, act_cfg=dict(type='ReLU', inplace=True),
                                            ffn_drop=0.0, dropout_layer=None, add_identity=True))))),
    test_cfg=dict(clip_ensemble=False, keep_logits=False))
# OVSeg's solver (configs/ovseg_swinB_vitL_bs32_120k.yaml: AdamW, poly, full-model gradient clip
# 0.01) at a CPU's scale
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='AdamW', lr=5e-4, weight_decay=1e-4),
                     clip_grad=dict(max_norm=0.01, norm_type=2))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False,
                begin=0, end=400)]
train_cfg = dict(max_iters=400, val_interval=100)
