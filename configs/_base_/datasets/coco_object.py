# coco_object: test split, mmseg's COCOObjectDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/coco_object.txt'
allow_shared_names = True  # SCLIP's list gives 'bed' to background and to bed
test_dataloader = dict(dataset=dict(type='COCOObjectDataset', data_root='data/coco_stuff164k',
    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017')))
