# coco_stuff27: COCO-Stuff val2017 restricted to STEGO's curated list, 27 coarse classes, as
# NoelShin/reco datasets/coco_stuff.py:38-39, 65-70 (the layout of STEGO's download: images/,
# annotations/ with the stuffthingmaps PNGs, curated/). Each class is named by its fine classes (171
# names, the authors' coco_stuff_categories_fine): ReCo predicts those and maps them to the coarse
# class (eval.py:135-143); the best fine name per coarse class is the same argmax.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/reco/coco_stuff27.txt'
test_dataloader = dict(dataset=dict(type='COCOStuff27Dataset', data_root='data/cocostuff',
    data_prefix=dict(img_path='images/val2017', seg_map_path='annotations/val2017'),
    ann_file='curated/val2017/Coco164kFull_Stuff_Coarse.txt'))
