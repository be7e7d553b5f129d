# No published setting for sclip on ViT-L/14 OpenAI:
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./sclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-L-14', pretrained='openai', quick_gelu=True))
