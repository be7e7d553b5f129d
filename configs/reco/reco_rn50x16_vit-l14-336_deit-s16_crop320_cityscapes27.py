# ReCo as NoelShin/reco configs/reco_*.yaml (the model base: the three yaml files differ only in their
# dataset), on cityscapes27 with PiCIE/STEGO's 320 centre crop. Pass the index of ImageNet-1K train
# (model.index=DIR, tools/build_index.py) and the DeiT-S/16-SIN weights (model.encoder.checkpoint=FILE).
_base_ = ['../_base_/models/reco_rn50x16_vit-l14-336_deit-s16.py', '../_base_/datasets/cityscapes27.py',
          '../_base_/datasets/test_crop320.py', '../_base_/default_runtime.py']
model = dict(class_names={{_base_.class_names}})
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
