from .benchmarks import COCOObjectDataset, PascalVOC20Dataset
from .image_folder import ImageFolderDataset

__all__ = ['PascalVOC20Dataset', 'COCOObjectDataset', 'ImageFolderDataset']
