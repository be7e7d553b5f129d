# LVIS v1 val (1203 classes; images are COCO's, addressed through coco_url): mmdet's LVISMetric,
# box and mask AP with APr/APc/APf (the PyPI lvis package; clipseg.compat runs it under numpy 2).
_base_ = ['./coco_instance.py']
# background + LVIS's 1203 names ('_' read as spaces), in the dataset's order (the segmentor's)
ov_class_names = '{{fileDirname}}/class_names/coco/lvis_v1.txt'
val_dataloader = dict(dataset=dict(type='LVISV1Dataset', data_root='data/lvis_v1/',
                                   ann_file='annotations/lvis_v1_val.json', data_prefix=dict(img='')))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='LVISMetric', metric=['bbox', 'segm'],
                     ann_file='data/lvis_v1/annotations/lvis_v1_val.json')
test_evaluator = val_evaluator
