# RF-CLIP as its authors release it (liblacklucy/RF-CLIP @c2b333e custom_segmentor.py, clip/model.py):
# SCLIP's harness (slide 224/112 at short side 336, DINO-style positions, leftover pixels dropped,
# logit scale 40 everywhere, no area threshold, PAMR off) with RF-CLIP's tower (distractor
# smoothing, patch graph, all-layer key-key readout; the paper's attention redistribution is off
# in the release: attention=dict(type='RFCLIPAttention', refocus=True) turns it on) and its text
# side (RFCLIPHead). CLIP in fp16 on GPU as theirs: 'fp16_cuda' (fp32 on CPU).
# Benchmarks set the head's weights (configs/cfg_*.py) in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention='rfclip',
             backbone_cfg=dict(with_global=True),
             test_cfg=dict(precision='fp16_cuda'))
