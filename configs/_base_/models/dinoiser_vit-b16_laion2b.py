# CLIP-DINOiser on OpenCLIP ViT-B/16 (LAION-2B): heads on block -3, γ = 0.2, δ = 0.99,
# slide 448/224 at short side 448, 80 templates (Wysoczańska et al., ECCV 2024).
model = dict(
    type='CLIPDINOiser',
    clip=dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k'),
    feats_idx=-3,
    proj_dim=256,
    gamma=0.2,
    delta=0.99,
    apply_background=False,
    templates='openai_imagenet',
    text_cache_dir='{{$CLIPSEG_CACHE:~/.cache/clipseg}}/text',  # encode a prompt set once per machine
    teacher=dict(model_name='vit_base_patch16_224.dino', pretrained=True, feats='v'),
    # FOUND's trained decoder on DINO ViT-S/8 keys, as the authors (models/FOUND/data/weights/
    # decoder_weights.pt); head=None runs FOUND's training-free discovery on the same ViT instead
    background_teacher=dict(dino=dict(model_name='vit_small_patch8_224.dino', pretrained=True),
                            head='data/found/decoder_weights.pt', in_channels=384, tau=0.3),
    test_cfg=dict(mode='slide', crop_size=(448, 448), stride=(224, 224)))
