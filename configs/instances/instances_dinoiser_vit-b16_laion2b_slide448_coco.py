# Training-free instances from dinoiser's maps, on its COCO-Object protocol (dinoiser_vit-b16_laion2b_slide448_coco_object.py):
# class 0 is background (no instances), the 80 others are COCO's, in COCO's order.
_base_ = ['../_base_/datasets/coco_instance.py', '../_base_/default_runtime_det.py']
model = dict(type='DenseInstanceDetector', background=1, min_area=64, nms_iou=0.5,
             segmentor={'type': 'mmseg.CLIPDINOiser',
 'clip': {'model_name': 'ViT-B-16', 'pretrained': 'laion2b_s34b_b88k'},
 'feats_idx': -3,
 'proj_dim': 256,
 'gamma': 0.2,
 'delta': 0.99,
 'apply_background': True,
 'templates': 'openai_imagenet',
 'text_cache_dir': '{{$CLIPSEG_CACHE:~/.cache/clipseg}}/text',
 'teacher': {'model_name': 'vit_base_patch16_224.dino', 'pretrained': True, 'feats': 'v'},
 'background_teacher': {'dino': {'model_name': 'vit_small_patch8_224.dino', 'pretrained': True},
                        'head': 'data/found/decoder_weights.pt',
                        'in_channels': 384,
                        'tau': 0.3},
 'test_cfg': {'mode': 'slide', 'crop_size': (448, 448), 'stride': (224, 224)},
 'class_names': '{{fileDirname}}/../_base_/datasets/class_names/dinoiser/coco_object.txt',
 'allow_shared_names': False})
test_pipeline = [dict(type='LoadImageFromFile'),
                 dict(type='Resize', scale=(2048, 448), keep_ratio=True),
                 dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
                 dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape',
                                                           'img_shape', 'scale_factor'))]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
