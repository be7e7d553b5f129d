# OVSeg (Liang et al., CVPR 2023) mask classification: CLIP ViT-L/14 (OpenAI) names masked crops
# (ov-seg configs/ovseg_swinB_vitL_bs32_120k.yaml: ViT-L/14, 'vild' templates, MASK_THR 0.4,
# expand ratio 1.0, mask prompt depth 3). The authors fine-tune CLIP and its mask prompts on
# COCO-Stuff crops; with OpenAI's weights the prompts are left out (mask_prompt_depth=0).
model = dict(
    type='OVSegSegmentor',
    clip=dict(model_name='ViT-L-14', pretrained='openai', quick_gelu=True),  # OpenAI weights: QuickGELU
    mask_prompt_depth=0,
    templates='vild',
    test_cfg=dict(mask_thr=0.4, expand_ratio=1.0, temperature=100.0))
