# No published setting for naclip on SigLIP ViT-B/16 (timm tower, MAP head):
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./naclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-B-16-SigLIP', pretrained='webli'),
             # timm tower: timm's own position resampling; leftover pixels dropped
             backbone_cfg=dict(_delete_=True, pad='drop'))
