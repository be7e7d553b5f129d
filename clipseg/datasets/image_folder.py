"""Every image under a folder, no labels: the training set of CLIP-DINOiser's heads."""
import os
from typing import List

from mmengine.dataset import BaseDataset

from mmseg.registry import DATASETS
from ..utils.image_io import IMAGE_SUFFIXES, list_images

@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Lists the images under ``data_root`` (recursively, sorted); ``num_samples`` keeps N of them
    drawn with a seeded generator: without replacement by default, or with replacement
    (``replace=True``) as CLIP-DINOiser's train.py does (``np.random.choice(len, 1000)``)."""

    def __init__(self, num_samples: int = None, seed: int = 0, replace: bool = False, **kwargs):
        self.num_samples, self.seed, self.replace = num_samples, seed, replace
        super().__init__(**kwargs)

    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not root or not os.path.isdir(root):
            raise FileNotFoundError(f'image folder not found: {root!r} (set data_root)')
        paths = list_images(root)
        if not paths:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) under {root!r}')
        if self.num_samples is not None and self.replace:
            import numpy as np
            picks = np.random.default_rng(self.seed).choice(len(paths), self.num_samples, replace=True)
            paths = [paths[i] for i in sorted(picks)]
        elif self.num_samples is not None and self.num_samples < len(paths):
            import random
            rng = random.Random(self.seed)
            paths = sorted(rng.sample(paths, self.num_samples))
        return [dict(img_path=p, seg_fields=[], reduce_zero_label=False) for p in paths]
