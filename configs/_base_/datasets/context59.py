# context59: test split, mmseg's PascalContextDataset59. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/sclip/context59.txt'
test_dataloader = dict(dataset=dict(type='PascalContextDataset59',
    data_root='data/VOCdevkit/VOC2010', data_prefix=dict(img_path='JPEGImages',
    seg_map_path='SegmentationClassContext'), ann_file='ImageSets/SegmentationContext/val.txt'))
