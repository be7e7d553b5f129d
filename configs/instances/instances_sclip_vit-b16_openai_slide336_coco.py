# Training-free instances from sclip's maps, on its COCO-Object protocol (sclip_vit-b16_openai_slide336_coco_object.py):
# class 0 is background (no instances), the 80 others are COCO's, in COCO's order.
_base_ = ['../_base_/datasets/coco_instance.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor={'type': 'mmseg.ZeroShotSegmentor',
 'clip': {'model_name': 'ViT-B-16', 'pretrained': 'openai', 'quick_gelu': True},
 'attention': 'sclip',
 'templates': 'openai_imagenet',
 'text_cache_dir': '{{$CLIPSEG_CACHE:~/.cache/clipseg}}/text',
 'backbone_cfg': {'pos_resize': 'dino', 'pad': 'drop'},
 'test_cfg': {'mode': 'slide',
              'crop_size': (224, 224),
              'stride': (112, 112),
              'logit_scale': 50.0,
              'prob_thd': 0.1},
 'class_names': '{{fileDirname}}/../_base_/datasets/class_names/sclip/coco_object.txt',
 'allow_shared_names': True})
test_pipeline = [dict(type='LoadImageFromFile'),
                 dict(type='Resize', scale=(2048, 336), keep_ratio=True),
                 dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                 dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                           'img_shape', 'scale_factor'))]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
