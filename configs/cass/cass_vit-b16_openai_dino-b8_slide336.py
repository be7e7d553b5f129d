# CASS on any image: slide 224/112 at short side 336, the text side with CASS's ADE20K weights.
_base_ = ['../_base_/models/cass_vit-b16_openai_dino-b8.py', '../_base_/datasets/any_image.py',
          '../_base_/default_runtime.py']
model = dict(decode_head=dict(type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05,
                              cluster_distance=0.06, global_from='image', linkage='ward'))
