# Common protocol (SCLIP's settings for every method): maskclip on equal footing.
_base_ = ['../sclip/sclip_vit-b16_openai_slide448_coco_stuff171.py']
model = dict(clip=dict(model_name='RN50'), attention='maskclip',
             backbone_cfg=dict(_delete_=True))  # attnpool: no pad/pos options
