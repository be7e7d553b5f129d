# ProxyCLIP on any image: OpenAI ViT-B/16 guided by DINO ViT-B/8, slide 336/112.
_base_ = ['../_base_/models/proxyclip_vit-b16_openai_dino-b8.py', '../_base_/datasets/any_image.py',
          '../_base_/default_runtime.py']
