# cityscapes27: Cityscapes val (gtFine labelIds, 27 classes), as NoelShin/reco datasets/cityscapes.py.
# No conversion: Cityscapes27Dataset maps the labelIds when loading. `data_root` is overridable.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/reco/cityscapes27.txt'
test_dataloader = dict(dataset=dict(type='Cityscapes27Dataset', data_root='data/cityscapes',
    data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')))
