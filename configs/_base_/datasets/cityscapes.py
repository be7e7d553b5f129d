# cityscapes: test split, mmseg's CityscapesDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/cityscapes.txt'
test_dataloader = dict(dataset=dict(type='CityscapesDataset', data_root='data/cityscapes',
    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')))
