# No published setting for clearclip on ViT-B/16 LAION-2B:
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./clearclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-B-16', pretrained='laion2b_s34b_b88k'))
