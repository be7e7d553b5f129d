# SCLIP as its authors run it (wangf3014/SCLIP sclip_segmentor.py defaults): correlative
# self-attention, slide 224/112 at short side 336, logit scale 40; the harness NACLIP, ClearCLIP's
# common row and the later methods reuse. Benchmarks set their thresholds in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention='sclip')
