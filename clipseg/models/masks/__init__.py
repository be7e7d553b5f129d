"""Class-agnostic region masks for an image (CorrCLIP's regions; OVSeg's proposals): SAM / SAM 2
automatic masks, our own DINO-feature clusters or training-free instances, masks the user gives, or
the ground truth's."""
from .base import MaskSource, build_mask_source, paint_regions, region_vote, resize_ids
from .dino_clusters import DINOClusterMasks
from .given import AnnotationMasks, CallableMasks, FolderMasks
from .instance_masks import InstanceMasks
from .sam_masks import SAM2Masks, SAMMasks

__all__ = ['MaskSource', 'build_mask_source', 'paint_regions', 'region_vote', 'resize_ids', 'SAMMasks',
           'SAM2Masks', 'DINOClusterMasks', 'FolderMasks', 'CallableMasks',
           'AnnotationMasks', 'InstanceMasks']
