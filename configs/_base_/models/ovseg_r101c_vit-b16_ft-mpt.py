# OVSeg's small release (ov-seg GETTING_STARTED.md): ovseg_R101c_vitB16_ft_mpt.pth,
# configs/ovseg_R101c_vitB_bs32_120k.yaml. First stage: MaskFormer on detectron2's DeepLab ResNet-101
# (three 3×3 stem convs of 64/64/128 channels = mmseg's ResNetV1c, stride in the 3×3 conv, res5
# multi-grid dilations 1/2/4, frozen BN), the same head as the Swin-B release with text dim 512.
# Second stage: the fine-tuned CLIP ViT-B/16 with depth-3 mask prompts (MASK_THR 0.5), ensemble 0.7.
# Weights: python tools/convert_checkpoint.py ovseg_R101c_vitB16_ft_mpt.pth \
#     checkpoints/ovseg_r101c_vit-b16_ft-mpt.pth --from ovseg-r101c
_base_ = ['./ovseg_swin-b_vit-l14_ft-mpt.py']
model = dict(
    clip=dict(model_name='ViT-B-16', pretrained='checkpoints/ovseg_r101c_vit-b16_ft-mpt_clip.pt'),
    proposals=dict(
        backbone=dict(_delete_=True, type='mmseg.ResNetV1c', depth=101, stem_channels=128,
                      base_channels=64, num_stages=4, out_indices=(0, 1, 2, 3),
                      strides=(1, 2, 2, 2), dilations=(1, 1, 1, 1), multi_grid=(1, 2, 4),
                      norm_cfg=dict(type='BN', requires_grad=False), norm_eval=True,
                      style='pytorch', init_cfg=None),
        head=dict(in_channels=[256, 512, 1024, 2048], embed_dims=512)),
    test_cfg=dict(mask_thr=0.5))
