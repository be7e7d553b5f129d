# OV-COCO (the OVR-CNN / ViLD split, as mmdet's grounding configs name it): COCO val2017 boxes of
# 65 classes, 48 base and 17 novel; mmdet's OVCocoMetric reports box AP50 on novel and on base.
# The annotation file holds the 65 classes (annotations/instances_val2017_all_2.json).
_base_ = ['./coco_instance.py']
base_classes = ('person', 'bicycle', 'car', 'motorcycle', 'train', 'truck', 'boat', 'bench',
                'bird', 'horse', 'sheep', 'bear', 'zebra', 'giraffe', 'backpack', 'handbag',
                'suitcase', 'frisbee', 'skis', 'kite', 'surfboard', 'bottle', 'fork', 'spoon',
                'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'pizza',
                'donut', 'chair', 'bed', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'microwave',
                'oven', 'toaster', 'refrigerator', 'book', 'clock', 'vase', 'toothbrush')  # 48
novel_classes = ('airplane', 'bus', 'cat', 'dog', 'cow', 'elephant', 'umbrella', 'tie',
                 'snowboard', 'skateboard', 'cup', 'knife', 'cake', 'couch', 'keyboard', 'sink',
                 'scissors')  # 17
all_classes = (
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat',
    'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra',
    'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis',
    'snowboard', 'kite', 'skateboard', 'surfboard', 'bottle', 'cup', 'fork', 'knife', 'spoon',
    'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli', 'carrot', 'pizza', 'donut',
    'cake', 'chair', 'couch', 'bed', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
    'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
    'toothbrush')  # 65, in COCO's order
# background + the 65, SCLIP's names for each (the segmentor's classes)
ov_class_names = '{{fileDirname}}/class_names/coco/ov_coco65.txt'
val_dataloader = dict(dataset=dict(
    ann_file='annotations/instances_val2017_all_2.json',
    metainfo=dict(classes=all_classes, base_classes=base_classes, novel_classes=novel_classes)))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='OVCocoMetric', metric='bbox',
                     ann_file='data/coco/annotations/instances_val2017_all_2.json')
test_evaluator = val_evaluator
