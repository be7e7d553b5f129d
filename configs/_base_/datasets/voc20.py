# voc20: test split, mmseg's PascalVOC20Dataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
# SCLIP's class-name list: the harness NACLIP, ProxyCLIP, SC-CLIP, ResCLIP, Trident and CorrCLIP reuse
class_names = '{{fileDirname}}/class_names/sclip/voc20.txt'
allow_shared_names = False
test_dataloader = dict(dataset=dict(
    type='PascalVOC20Dataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/val.txt'))
