# voc20: test split, mmseg's PascalVOC20Dataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/voc20.txt'
test_dataloader = dict(dataset=dict(type='PascalVOC20Dataset', data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/val.txt'))
