# RF-CLIP on any image: slide 224/112 at short side 336, the text side with its ADE20K weights
# (the most classes of its benchmarks; the authors' segmentor defaults are 0: no text side).
_base_ = [
    '../_base_/models/rfclip_vit-b16_openai_paper.py',
    '../_base_/datasets/any_image.py',
    '../_base_/default_runtime.py',
]
model = dict(decode_head=dict(type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05,
                              cluster_distance=0.06))
