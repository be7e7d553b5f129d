# No published setting for maskclip on RN101 OpenAI:
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./maskclip_rn50_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='RN101', pretrained='openai', quick_gelu=True))
