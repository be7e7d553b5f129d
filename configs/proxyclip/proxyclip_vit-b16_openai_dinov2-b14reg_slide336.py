# ProxyCLIP with DINOv2 ViT-B/14 with registers as the proxy (the authors' 'dinov2' option,
# proxyclip_segmentor.py:57); positions resized as timm (the hub model's antialiased bicubic).
_base_ = ['./proxyclip_vit-b16_openai_dino-b8_slide336.py']
model = dict(proxy=dict(type='TimmProxy', model_name='vit_base_patch14_reg4_dinov2.lvd142m'))
