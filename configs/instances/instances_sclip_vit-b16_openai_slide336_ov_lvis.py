# Training-free instances from sclip's maps on OV-LVIS (mask APr): the segmentor is the model of
# sclip_vit-b16_openai_slide336_coco_object.py with the benchmark's classes (background + its names).
_base_ = ['../_base_/datasets/ov_lvis.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor=dict(config='sclip_vit-b16_openai_slide336_coco_object',
                            class_names={{_base_.ov_class_names}}))
