from .benchmarks import COCOObjectDataset, PascalVOC20Dataset

__all__ = ['PascalVOC20Dataset', 'COCOObjectDataset']
