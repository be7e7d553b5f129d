# Common protocol (SCLIP's settings for every method): rfclip on equal footing, with the
# text side's ADE20K weights (the authors' segmentor defaults are 0: no text side at all).
_base_ = ['../sclip/sclip_vit-b16_openai_slide336_context60.py']
model = dict(attention='rfclip', backbone_cfg=dict(with_global=True),
             decode_head=dict(type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05,
                              cluster_distance=0.06))
