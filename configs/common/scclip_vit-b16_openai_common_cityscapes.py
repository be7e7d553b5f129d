# Common protocol (SCLIP's settings for every method): scclip on equal footing.
_base_ = ['../sclip/sclip_vit-b16_openai_slide560_cityscapes.py']
model = dict(attention='scclip')
