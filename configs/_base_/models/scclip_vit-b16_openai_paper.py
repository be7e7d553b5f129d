# SC-CLIP as its authors run it (SuleBai/SC-CLIP scclip_segmentor.py, configs/base_config.py):
# SCLIP's harness (slide 224/112 at short side 336, DINO-style positions, leftover pixels dropped,
# logit scale 40, the same class lists and templates) with the SC-CLIP tower; CLIP in fp16 on GPU
# as theirs (clip/clip.py:141-142): 'fp16_cuda' (fp32 on CPU). Benchmarks set thresholds in the leaf.
_base_ = ['./zero_shot_vit-b16_openai.py']
model = dict(attention=dict(type='SCCLIPAttention', pre_adjust_idx=8, post_adjust_idx=3,
                            multi_start_idx=3, multi_end_idx=10, res_cls=0.3),
             test_cfg=dict(precision='fp16_cuda'))
