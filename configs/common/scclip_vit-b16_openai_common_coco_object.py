# Common protocol (SCLIP's settings for every method): scclip on equal footing.
_base_ = ['../sclip/sclip_vit-b16_openai_slide336_coco_object.py']
model = dict(attention='scclip')
