# Zero-shot segmentor on open_clip ViT-B-16 with OpenAI weights; SCLIP-style slide 224/112.
# The leaf (or a method's protocol base) sets `attention` ('maskclip', 'sclip', 'clearclip', 'naclip', ...).
model = dict(
    type='ZeroShotSegmentor',
    clip=dict(model_name='ViT-B-16', pretrained='openai', quick_gelu=True),  # OpenAI weights: QuickGELU
    templates='openai_imagenet',
    text_cache_dir='{{$CLIPSEG_CACHE:~/.cache/clipseg}}/text',  # encode a prompt set once per machine
    backbone_cfg=dict(pos_resize='dino', pad='drop'),  # SCLIP: DINO-style positions, leftover pixels dropped
    test_cfg=dict(mode='slide', crop_size=(224, 224), stride=(112, 112), logit_scale=40.0))
