# ade20k847: ADE20K's full validation set with 847 classes, in the layout ov-seg's
# datasets/prepare_ade20k_full_sem_seg.py writes (16-bit TIFF class indices, 65535 ignored).
_base_ = ['./zero_shot_test.py']
class_names = '{{fileDirname}}/class_names/ovseg/ade20k847.txt'
test_dataloader = dict(dataset=dict(type='ClassFileSegDataset', classes_file=class_names,
    data_root='data/ADE20K_2021_17_01', data_prefix=dict(img_path='images_detectron2/validation',
    seg_map_path='annotations_detectron2/validation')))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'], ignore_index=65535)
