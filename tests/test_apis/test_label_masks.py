"""Naming given masks: files of every documented kind are read and checked against the image,
each mask gets the class its crop matches (planted), and ``clipseg label-masks`` writes the map."""
import json

import cv2
import numpy as np
import pytest
import torch

import clipseg
from clipseg import cli
from clipseg.apis.label_masks import read_masks
from clipseg.models.mask_crops import masked_crops
from clipseg.models.text.text_classifier import ClassEmbeddings
from ..conftest import write_tiny_config
from ..test_models.test_ovseg import _ovseg

H, W = 40, 60


def _scene():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    masks = np.zeros((4, H, W), bool)
    masks[0, 2:20, 3:30] = True
    masks[1, 22:38, 10:50] = True
    masks[2, 5:15, 40:58] = True           # mask 3 stays empty
    return image, masks


def test_each_mask_gets_the_class_its_crop_matches(monkeypatch):
    """Class k's text embedding is planted as the crop embedding of mask π(k): mask n must be
    labelled π⁻¹(n); the empty mask gets -1, and the map is the masks' labels, -1 elsewhere."""
    model = _ovseg(0, classes='a,b,c')
    image, masks = _scene()
    rgb = torch.from_numpy(image[..., ::-1].copy()).permute(2, 0, 1).float()
    crops, cmasks, _ = masked_crops(rgb, torch.from_numpy(masks).float(), model.clip_mean,
                                    model.clip_std, 0.4, 64)
    with torch.no_grad():
        feats = model.image_encoder(crops, cmasks)
    order = [2, 0, 1]                                    # class k ← mask order[k]
    planted = ClassEmbeddings(feats[order], torch.arange(3), ['a', 'b', 'c'])
    monkeypatch.setattr(model, 'class_embeddings', lambda: planted)
    found = clipseg.classify_masks(model, image, masks)
    assert found['labels'].tolist() == [1, 2, 0, -1] and found['valid'].tolist() == [True] * 3 + [False]
    assert found['scores'].shape == (4, 3) and np.allclose(found['scores'][:3].sum(1), 1, atol=1e-5)
    want = np.full((H, W), -1)
    for n in range(3):
        want[masks[n]] = found['labels'][n]
    assert (found['label_map'] == want).all()


def test_mask_files_of_every_kind_are_read_and_checked(tmp_path):
    _, masks = _scene()
    folder = tmp_path / 'folder'
    folder.mkdir()
    for i, m in enumerate(masks[:3]):
        cv2.imwrite(str(folder / f'm{i}.png'), m.astype(np.uint8) * 255)
    got, names = read_masks(folder, (H, W))
    assert (got == masks[:3]).all() and names == ['m0', 'm1', 'm2']
    np.savez(tmp_path / 'stack.npz', masks=masks)
    assert (read_masks(tmp_path / 'stack.npz', (H, W))[0] == masks).all()
    ids = np.zeros((H, W), np.uint16)
    ids[masks[1]], ids[masks[2]] = 7, 9
    cv2.imwrite(str(tmp_path / 'ids.png'), ids)
    got, names = read_masks(tmp_path / 'ids.png', (H, W))
    assert names == ['7', '9'] and (got == masks[1:3]).all()
    pytest.importorskip('pycocotools')
    from pycocotools import mask as coco_mask
    rle = coco_mask.encode(np.asfortranarray(masks[0].astype(np.uint8)))
    anns = [dict(id=5, segmentation=dict(size=rle['size'], counts=rle['counts'].decode()))]
    (tmp_path / 'coco.json').write_text(json.dumps(dict(annotations=anns)))
    got, names = read_masks(tmp_path / 'coco.json', (H, W))
    assert names == ['5'] and (got[0] == masks[0]).all()
    with pytest.raises(ValueError, match=r"mask '.*m0.png' is 60x40 but the image is 61x40"):
        read_masks(folder, (H, W + 1))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='no mask images'):
        read_masks(tmp_path / 'empty', (H, W))


def test_label_masks_command_writes_the_overlay(tmp_path, tiny_ckpt, capsys):
    image, masks = _scene()
    cv2.imwrite(str(tmp_path / 'photo.png'), image)
    np.savez(tmp_path / 'masks.npz', masks=masks)
    cfg = write_tiny_config(tmp_path, 'configs/ovseg/ovseg_vit-l14_openai_masks.py')
    rc = cli.main(['label-masks', str(tmp_path / 'photo.png'), '--masks', str(tmp_path / 'masks.npz'),
                   '--classes', 'cat,dog', '--config', str(cfg), '--weights', str(tiny_ckpt),
                   '--out', str(tmp_path / 'out.png'), '--label-map', str(tmp_path / 'labels.png')])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert out.out.count('mask ') == 4 and '(empty mask)' in out.out
    from PIL import Image
    labels = np.array(Image.open(tmp_path / 'labels.png'))          # palette indices
    assert labels.shape == (H, W) and (labels[~masks.any(0)] == 2).all()   # '(no mask)'
    assert cv2.imread(str(tmp_path / 'out.png')).shape[0] >= H
    rc = cli.main(['label-masks', str(tmp_path / 'photo.png'), '--masks', str(tmp_path / 'nope'),
                   '--classes', 'cat', '--config', str(cfg)])
    assert rc == 2 and '--masks not found' in capsys.readouterr().err
