# No published setting for naclip on ViT-B/16 DataComp-XL:
# our any-image protocol (short side 336, slide 224/112).

_base_ = ['./naclip_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='ViT-B-16', pretrained='datacomp_xl_s13b_b90k'))
