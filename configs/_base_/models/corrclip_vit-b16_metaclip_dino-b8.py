# CorrCLIP as its authors run it (zdk258/CorrCLIP @103bc18 CorrCLIPv1/corrclip_segmentor.py:47-121,
# 183-233, open_clip/transformer.py:506-634, configs/base_config.py): MetaCLIP ViT-B/16 (QuickGELU)
# guided by DINO ViT-B/8 (q + k of its last block), correlations kept within region masks merged
# by DINO similarity (DBSCAN ε 0.2), τ 4, spatial branch ×1.0, semantic branch ×0.5; slide
# 336/112, crops padded evenly to 56, logit scale 40, map correction by the raw regions. Regions:
# the authors' released SAM 2 masks (region_masks.zip, the published numbers), one folder per
# benchmark; SAM2Masks or DINOClusterMasks compute them instead. fp16 on GPU as theirs.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(
    clip=dict(_delete_=True, model_name='ViT-B-16-quickgelu', pretrained='metaclip_fullcc'),
    attention=dict(type='CorrCLIPAttention', tau=4.0, merge_eps=0.2, spatial_weight=1.0,
                   semantic_weight=0.5),
    proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'),
    mask_source=dict(type='FolderMasks', root='data/region_masks/voc'),
    backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56),
    test_cfg=dict(mode='slide', crop_size=(336, 336), stride=(112, 112), logit_scale=40.0,
                  precision='fp16_cuda', map_correction=True))
