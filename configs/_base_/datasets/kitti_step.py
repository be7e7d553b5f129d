# kitti_step: KITTI-STEP val (frames val/<seq>/*.png, panoptic_maps/val/<seq>/*.png; the authors'
# layout, NoelShin/reco datasets/kitti_step.py:31-34), 19 Cityscapes classes. The authors score
# KITTI-STEP at full resolution, one image a batch (kitti_step.py:87-98, eval.py:114), so this file
# carries its own pipeline: the red channel of the panoptic map is the class.
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/reco/kitti_step.txt'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadSTEPAnnotations'),
    dict(type='PackSegInputs'),
]
test_dataloader = dict(dataset=dict(type='KITTISTEPDataset', data_root='data/kitti_step',
    data_prefix=dict(img_path='val', seg_map_path='panoptic_maps/val')))
