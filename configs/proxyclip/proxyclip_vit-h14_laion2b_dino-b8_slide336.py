# ProxyCLIP with the authors' largest CLIP (configs/base_config.py:11): ViT-H/14 LAION-2B.
_base_ = ['./proxyclip_vit-b16_openai_dino-b8_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-H-14', pretrained='laion2b_s32b_b79k'))
