# CASS as its authors run it (MICV-yonsei/CASS @228ecdd cass_segmentor.py, clip/model.py:93-481,
# configs/base_config.py): SCLIP's harness (slide 224/112 at short side 336, DINO-style positions,
# leftover pixels dropped, logit scale 40) with OpenAI ViT-B/16 guided by DINO ViT-B/8's last-block
# keys (spectral head pairing, rank-10 graphs, ×10 mixing, NACLIP's Gaussian σ 5, their DINO input
# arithmetic) and CASS's text side (ward clusters of the names, the best nudged toward the image,
# mixed with the image-level similarity: RFCLIPHead with linkage='ward'). fp16 on GPU as theirs.
# Benchmarks set the head's weights (configs/cfg_*.py) in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention=dict(type='CASSAttention', eigen=20, rank=10, scale=10.0, std=5.0),
             proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino'),
             backbone_cfg=dict(with_global=True),
             test_cfg=dict(precision='fp16_cuda'))
