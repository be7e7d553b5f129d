"""mmdet detectors (registered into mmdet's MODELS): training-free instances from dense maps."""
from .dense_instances import DenseInstanceDetector, instances_from_maps

__all__ = ['DenseInstanceDetector', 'instances_from_maps']
