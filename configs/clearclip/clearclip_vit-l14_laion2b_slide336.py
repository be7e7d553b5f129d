# ClearCLIP's code takes ViT-L-14 (openai, laion2b_s32b_b82k, metaclip_fullcc) with its B/16
# settings (clearclip_segmentor.py:22-45); here on our any-image protocol (short side 336, slide 224/112).

_base_ = ['./clearclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-L-14', pretrained='laion2b_s32b_b82k'))
