# ade20k150: test split, mmseg's ADE20KDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/ade20k150.txt'
test_dataloader = dict(dataset=dict(type='ADE20KDataset', data_root='data/ade/ADEChallengeData2016',
    data_prefix=dict(img_path='images/validation', seg_map_path='annotations/validation')))
