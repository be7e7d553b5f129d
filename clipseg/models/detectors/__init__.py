"""mmdet detectors (registered into mmdet's MODELS): training-free instances from dense maps, and
DenseCLIP's RetinaNet and Mask R-CNN."""
from .dense_instances import DenseInstanceDetector, instances_from_maps
from .denseclip import DenseCLIPMaskRCNN, DenseCLIPRetinaNet

__all__ = ['DenseInstanceDetector', 'instances_from_maps', 'DenseCLIPRetinaNet',
           'DenseCLIPMaskRCNN']
