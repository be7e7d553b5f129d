# context60: test split, mmseg's PascalContextDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
# SCLIP's class-name list: the harness NACLIP, ProxyCLIP, SC-CLIP, ResCLIP, Trident and CorrCLIP reuse
class_names = '{{fileDirname}}/class_names/sclip/context60.txt'
allow_shared_names = False
test_dataloader = dict(dataset=dict(
    type='PascalContextDataset',
    data_root='data/VOCdevkit/VOC2010',
    data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassContext'),
    ann_file='ImageSets/SegmentationContext/val.txt'))
