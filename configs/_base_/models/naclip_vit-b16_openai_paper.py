# NACLIP as its authors run it (sinahmr/NACLIP naclip.py defaults): PAMR 10 steps at dilations
# 8/16 on, class probabilities renormalised after the synonym max; the rest as SCLIP. CLIP runs in
# fp16 on GPU as theirs does (NACLIP clip/model.py:398): 'fp16_cuda' (fp32 on CPU).
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention='naclip',
             test_cfg=dict(pamr_steps=10, pamr_dilations=(8, 16), renormalize=True,
                           precision='fp16_cuda'))
