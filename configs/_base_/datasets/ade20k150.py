# ade20k150: test split, mmseg's ADE20KDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
# SCLIP's class-name list: the harness NACLIP, ProxyCLIP, SC-CLIP, ResCLIP, Trident and CorrCLIP reuse
class_names = '{{fileDirname}}/class_names/sclip/ade20k150.txt'
allow_shared_names = False
test_dataloader = dict(dataset=dict(
    type='ADE20KDataset',
    data_root='data/ade/ADEChallengeData2016',
    data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation')))
