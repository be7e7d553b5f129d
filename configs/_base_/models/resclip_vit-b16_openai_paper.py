# ResCLIP as its authors run it (yvhangyang/ResCLIP resclip_segmentor.py, configs/cfg_*.py,
# test_all.sh with arch 'wo_resi', attn 'resclip' = NACLIP's last block): RCS from blocks 6-9 and
# SFR on NACLIP's attention; SCLIP's harness otherwise (slide 224/112 at short side 336,
# DINO-style positions, leftover pixels dropped, logit scale 40, PAMR off, no area threshold).
# CLIP in fp16 on GPU as theirs: 'fp16_cuda' (fp32 on CPU). host='sclip' / 'clearclip' puts the
# plug-ins on those methods. Benchmarks set the plug-ins' weights in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention=dict(type='ResCLIPAttention', host='naclip', rcs_layers=(5, 6, 7, 8),
                            gaussian_std=5.0, delete_same_entity=True),
             test_cfg=dict(precision='fp16_cuda',
                           renormalize=True))  # stored probabilities / their sum (resclip_segmentor.py:184)
