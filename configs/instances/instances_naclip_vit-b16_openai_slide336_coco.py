# Training-free instances from NACLIP's maps on its COCO-Object protocol: the segmentor is the model of
# naclip_vit-b16_openai_slide336_coco_object.py (inherited, so the two cannot drift); class 0 is
# background (no instances), the 80 others are COCO's, in COCO's order.
_base_ = ['../_base_/datasets/coco_instance.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor=dict(config='naclip_vit-b16_openai_slide336_coco_object'))
