# ProxyCLIP with SAM ViT-B's image encoder as the proxy (the authors' 'sam' option,
# proxyclip_segmentor.py:46, 118-122: crops stretched to 1024, the 256-channel neck output).
# Needs `pip install "clipseg[sam]"` and the released file: --cfg-options model.proxy.checkpoint=...
_base_ = ['./proxyclip_vit-b16_openai_dino-b8_slide336.py']
model = dict(proxy=dict(_delete_=True, type='SAMProxy', variant='vit_b',
                        checkpoint='checkpoints/sam_vit_b_01ec64.pth'))
