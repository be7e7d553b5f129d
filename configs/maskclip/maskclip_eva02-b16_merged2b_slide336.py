# No published setting for maskclip on EVA02-B/16 (timm tower, rotary positions):
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./maskclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='EVA02-B-16', pretrained='merged2b_s8b_b131k'),
             # timm tower: timm's own position resampling; leftover pixels dropped
             backbone_cfg=dict(_delete_=True, pad='drop'))
