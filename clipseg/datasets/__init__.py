"""Datasets and transforms mmseg lacks: VOC20, COCO-Object, image folders, colour jitter, the
STEGO benchmarks ReCo reports and their centre-crop view, the large-vocabulary benchmarks OVSeg
reports (ADE20K-847, Pascal Context-459)."""
from .benchmarks import COCOObjectDataset, PascalVOC20Dataset
from .color_jitter import ColorJitter
from .image_folder import ImageFolderDataset
from .large_vocabulary import ClassFileSegDataset, LoadWideAnnotations
from .short_side_crop import ShortSideCenterCrop
from .stego_benchmarks import (COCOStuff27Dataset, Cityscapes27Dataset, KITTISTEPDataset,
                               LoadSTEPAnnotations)

__all__ = ['PascalVOC20Dataset', 'COCOObjectDataset', 'ImageFolderDataset', 'ColorJitter',
           'ShortSideCenterCrop', 'Cityscapes27Dataset', 'COCOStuff27Dataset', 'KITTISTEPDataset',
           'LoadSTEPAnnotations', 'ClassFileSegDataset', 'LoadWideAnnotations']
