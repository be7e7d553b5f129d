# Training-free instances from CLIP-DINOiser's maps on its COCO-Object protocol: the segmentor is the model of
# dinoiser_vit-b16_laion2b_slide448_coco_object.py (inherited, so the two cannot drift); class 0 is
# background (no instances), the 80 others are COCO's, in COCO's order.
_base_ = ['../_base_/datasets/coco_instance.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor=dict(config='dinoiser_vit-b16_laion2b_slide448_coco_object'))
test_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(2048, 448), keep_ratio=True),
                 dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                 dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                                                       'scale_factor'))]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
