"""Datasets and transforms mmseg lacks: VOC20, COCO-Object, image folders, colour jitter."""
from .benchmarks import COCOObjectDataset, PascalVOC20Dataset
from .color_jitter import ColorJitter
from .image_folder import ImageFolderDataset

__all__ = ['PascalVOC20Dataset', 'COCOObjectDataset', 'ImageFolderDataset', 'ColorJitter']
