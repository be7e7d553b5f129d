# ConvNeXt-B (LAION-400M), dense: each location through the tower's head (attention='vanilla': a ConvNeXt
# has no attention for the training-free variants). No published setting: our any-image protocol.
_base_ = ['./vanilla_vit-b16_openai_slide336.py']
model = dict(clip=dict(_delete_=True, model_name='convnext_base', pretrained='laion400m_s13b_b51k'),
             backbone_cfg=dict(_delete_=True, pad='corner'))
