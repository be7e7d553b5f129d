# SCLIP as its authors run it (wangf3014/SCLIP sclip_segmentor.py defaults): correlative
# self-attention, slide 224/112 at short side 336, logit scale 40; the harness NACLIP, ClearCLIP's
# common row and the later methods reuse. Benchmarks set their thresholds in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
# The authors run CLIP in fp16 on GPU (SCLIP clip/model.py:542): 'fp16_cuda' (fp32 on CPU).
model = dict(attention='sclip', test_cfg=dict(precision='fp16_cuda'))
