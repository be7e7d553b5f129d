# CorrCLIP on any image with no mask model: regions from k-means on the DINO proxy's features
# (DINOClusterMasks, our option; patch-sized boundaries, so no map correction). No published number.
_base_ = ['../_base_/models/corrclip_vit-b16_metaclip_dino-b8.py', '../_base_/datasets/any_image.py',
          '../_base_/default_runtime.py']
model = dict(mask_source=dict(_delete_=True, type='DINOClusterMasks', num_clusters=8),
             test_cfg=dict(map_correction=False))
