# OVSeg's small release as its authors evaluate it (ov-seg GETTING_STARTED.md, "Test on ADE20K-150"
# with configs/ovseg_R101c_vitB_bs32_120k.yaml): short side 512 (long ≤ 2048), detectron2's ADE-150
# class names, ensemble weight 0.7.
_base_ = ['../_base_/models/ovseg_r101c_vit-b16_ft-mpt.py', '../_base_/datasets/ade20k150.py',
          '../_base_/datasets/test_short512.py', '../_base_/default_runtime.py']
model = dict(class_names='{{fileDirname}}/../_base_/datasets/class_names/ovseg/ade20k150.txt')
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
