# coco_stuff171: test split, mmseg's COCOStuffDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/coco_stuff171.txt'
test_dataloader = dict(dataset=dict(type='COCOStuffDataset', data_root='data/coco_stuff164k',
    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017')))
