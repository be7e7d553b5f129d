import numpy as np
import torch

from clipseg.datasets import ColorJitter, ImageFolderDataset


def test_brightness_only_jitter_scales_every_pixel_by_one_factor():
    torch.manual_seed(0)
    img = np.random.default_rng(0).integers(40, 120, (16, 20, 3), dtype=np.uint8)
    factors = []
    for _ in range(20):
        out = ColorJitter(brightness=0.5).transform(dict(img=img.copy()))['img']
        assert out.shape == img.shape and out.dtype == np.uint8
        ratio = out.astype(float) / img
        factors.append(np.median(ratio))
        assert np.allclose(ratio, factors[-1], atol=0.02)        # one factor: hue and contrast kept
    assert 0.5 <= min(factors) and max(factors) <= 1.5 and np.ptp(factors) > 0.3


def test_image_folder_draws_with_replacement_like_the_authors(tmp_path):
    import cv2
    for i in range(5):
        cv2.imwrite(str(tmp_path / f'{i}.png'), np.zeros((4, 4, 3), np.uint8))
    ds = ImageFolderDataset(data_root=str(tmp_path), num_samples=8, replace=True, pipeline=[])
    paths = [ds.get_data_info(i)['img_path'] for i in range(len(ds))]
    assert len(paths) == 8 and len(set(paths)) < 8
    again = ImageFolderDataset(data_root=str(tmp_path), num_samples=8, replace=True, pipeline=[])
    assert [again.get_data_info(i)['img_path'] for i in range(8)] == paths   # seeded
