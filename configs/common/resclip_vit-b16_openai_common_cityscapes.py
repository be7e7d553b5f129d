# Common protocol (SCLIP's settings for every method): resclip (NACLIP host, the authors'
# ADE20K weights) on equal footing.
_base_ = ['../sclip/sclip_vit-b16_openai_slide560_cityscapes.py']
model = dict(attention=dict(_delete_=True, type='ResCLIPAttention', host='naclip', rcs=(2.0, 0.3),
                            sfr=(2.1, 0.7), temp_thd=0.25))
