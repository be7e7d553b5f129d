# DenseCLIP (Rao et al., CVPR 2022) with RN101 on ADE20K-150: the RN50 recipe, another CLIP.
_base_ = ['./denseclip_fpn_rn50_openai_512x512_80k_ade20k150.py']
model = dict(clip=dict(model_name='RN101'))
