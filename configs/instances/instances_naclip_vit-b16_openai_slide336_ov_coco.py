# Training-free instances from naclip's maps on OV-COCO (48 base / 17 novel, box AP50):
# the segmentor is the model of naclip_vit-b16_openai_slide336_coco_object.py
# with the benchmark's classes (background + its names).
_base_ = ['../_base_/datasets/ov_coco.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor=dict(config='naclip_vit-b16_openai_slide336_coco_object',
                            class_names={{_base_.ov_class_names}},
                            allow_shared_names=True))  # SCLIP's background line has 'bed'
