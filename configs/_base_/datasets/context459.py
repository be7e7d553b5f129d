# context459: Pascal Context's validation set with all 459 classes, in the layout ov-seg's
# datasets/prepare_pascal_context.py writes (16-bit TIFF class indices, 65535 ignored; the label
# maps decide which VOC2010 images are evaluated).
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/ovseg/context459.txt'
test_dataloader = dict(dataset=dict(type='ClassFileSegDataset', classes_file=class_names,
    data_root='data/VOCdevkit/VOC2010', data_prefix=dict(img_path='JPEGImages',
    seg_map_path='annotations_detectron2/pc459_val')))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
