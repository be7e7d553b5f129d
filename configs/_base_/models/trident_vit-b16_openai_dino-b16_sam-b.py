# Trident as its authors run it (YuHengsss/Trident @a93b346 trident.py, open_clip/transformer.py:
# 502-659, seg_utils/utils.py, configs/base_config.py): OpenAI ViT-B/16 on 336-pixel sub-images
# (stride 224) pooled by DINO ViT-B/16's last-layer features (ProxyCLIP's β 1.2, γ 3.0, one mean
# over all windows), spliced, aggregated by SAM ViT-B's last global attention (pairs whose SAM
# values agree, cos_fac × mean), then SAM refinement prompted by every class region (IoU > 0.8,
# regions of 225+ pixels at half size, mask prompt ×0.005); logit scale 40, ProxyCLIP's lists.
# Needs `pip install "clipseg[sam]"` and sam_vit_b_01ec64.pth (--cfg-options model.sam.checkpoint=...).
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(
    type='TridentSegmentor',
    attention=dict(type='ProxyCLIPAttention', beta=1.2, gamma=3.0, mean_over='batch'),
    proxy=dict(type='TimmProxy', model_name='vit_base_patch16_224.dino'),
    sam=dict(variant='vit_b', checkpoint='checkpoints/sam_vit_b_01ec64.pth'),
    backbone_cfg=dict(pos_resize='dino', pad='drop'),
    test_cfg=dict(mode='slide', crop_size=(336, 336), stride=(224, 224), logit_scale=40.0,
                  cos_fac=1.2, refine_neg_cos=True, sam_refine=True, sam_iou_thresh=0.8,
                  minimal_area=225, sam_mask_coeff=0.005))
