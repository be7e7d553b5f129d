# cityscapes: test split, mmseg's CityscapesDataset. `data_root` is overridable with --cfg-options.
_base_ = ['./zero_shot_test.py']
# SCLIP's class-name list: the harness NACLIP, ProxyCLIP, SC-CLIP, ResCLIP, Trident and CorrCLIP reuse
class_names = '{{fileDirname}}/class_names/sclip/cityscapes.txt'
allow_shared_names = False
test_dataloader = dict(dataset=dict(
    type='CityscapesDataset',
    data_root='data/cityscapes',
    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')))
