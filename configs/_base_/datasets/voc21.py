# voc21: test split, mmseg's PascalVOCDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
# SCLIP's class-name list: the harness NACLIP, ProxyCLIP, SC-CLIP, ResCLIP, Trident and CorrCLIP reuse
class_names = '{{fileDirname}}/class_names/sclip/voc21.txt'
allow_shared_names = False
test_dataloader = dict(dataset=dict(
    type='PascalVOCDataset',
    data_root='data/VOCdevkit/VOC2012',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClass'),
    ann_file='ImageSets/Segmentation/val.txt'))
