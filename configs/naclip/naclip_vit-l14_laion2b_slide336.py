# NACLIP's code takes ViT-L/14 by clip_path with every other setting unchanged
# (configs/base_config.py:4); here on our any-image protocol (short side 336, slide 224/112).

_base_ = ['./naclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-L-14', pretrained='laion2b_s32b_b82k'))
