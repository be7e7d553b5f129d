"""ReCo's three benchmarks build from their configs on tiny planted folders: labels become the
authors' class ids (Cityscapes labelIds, COCO-Stuff fine ids, KITTI-STEP's red channel), and the
320 centre crop is torchvision's, on image and labels alike."""
import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image

import clipseg  # noqa: F401  (registers the datasets and transforms)
from clipseg.datasets.stego_benchmarks import COCO_FINE_TO_COARSE, COCO_STUFF27
from mmseg.registry import DATASETS, TRANSFORMS
from ..conftest import REPO

CONFIGS = REPO / 'configs' / 'reco'


def build(config: str, root):
    cfg = Config.fromfile(str(CONFIGS / f'reco_rn50x16_vit-l14-336_deit-s16_{config}.py'))
    cfg.test_dataloader.dataset.data_root = str(root)
    return DATASETS.build(cfg.test_dataloader.dataset)


def save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def bands(values, width=8, height=32, left=16):
    """(height, left + width·len(values) + left) labels: one column band per value, 20 in the margins."""
    out = np.full((height, 2 * left + width * len(values)), 20, np.uint8)
    for i, v in enumerate(values):
        out[:, left + i * width:left + (i + 1) * width] = v
    return out


def test_cityscapes27_maps_label_ids_and_crops_the_centre(tmp_path):
    """64×32 labelIds → short side 320 (×10) → the centre 320 columns are the planted bands."""
    labels = bands([7, 8, 33, 0])                       # margins (20 → 13) fall outside the crop
    rgb = np.zeros((*labels.shape, 3), np.uint8)
    save(tmp_path / 'leftImg8bit/val/town/town_0_leftImg8bit.png', rgb)
    save(tmp_path / 'gtFine/val/town/town_0_gtFine_labelIds.png', labels)
    ds = build('crop320_cityscapes27', tmp_path)
    assert len(ds) == 1 and len(ds.metainfo['classes']) == 27 and ds.metainfo['classes'][0] == 'road'
    item = ds[0]
    gt = item['data_samples'].gt_sem_seg.data[0].numpy()
    assert gt.shape == (320, 320) and item['inputs'].shape == (3, 320, 320)
    assert [int(gt[0, c]) for c in (0, 80, 160, 240)] == [0, 1, 26, 255]
    assert set(np.unique(gt).tolist()) == {0, 1, 26, 255}
    assert item['data_samples'].ori_shape == (320, 320)   # predictions are scored on the crop


def test_coco_stuff27_reads_the_curated_list_and_maps_fine_to_coarse(tmp_path):
    fine = bands([0, 168, 181, 255])                    # person, tree, wood, unlabelled
    for name in ('000000000001', '000000000002'):
        save(tmp_path / f'images/val2017/{name}.jpg', np.zeros((*fine.shape, 3), np.uint8))
        save(tmp_path / f'annotations/val2017/{name}.png', fine)
    (tmp_path / 'curated/val2017').mkdir(parents=True)
    (tmp_path / 'curated/val2017/Coco164kFull_Stuff_Coarse.txt').write_text('000000000002\n')
    ds = build('crop320_coco_stuff27', tmp_path)
    assert len(ds) == 1 and ds[0]['data_samples'].img_path.endswith('000000000002.jpg')
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    names = [COCO_STUFF27[int(gt[0, c])] for c in (0, 80, 160)]
    assert names == ['person', 'plant', 'solid'] and gt[0, 240] == 255


def test_kitti_step_keeps_the_red_channel_at_full_resolution(tmp_path):
    rgb = np.zeros((37, 124, 3), np.uint8)
    rgb[..., 0] = 13                                    # car
    rgb[:, :40, 0] = 255                                # void
    rgb[..., 1], rgb[..., 2] = 1, 7                     # an instance id
    save(tmp_path / 'val/0002/000000.png', np.zeros_like(rgb))
    save(tmp_path / 'panoptic_maps/val/0002/000000.png', rgb)
    ds = build('full_kitti_step', tmp_path)
    gt = ds[0]['data_samples'].gt_sem_seg.data[0].numpy()
    assert gt.shape == (37, 124) and set(np.unique(gt).tolist()) == {13, 255}
    assert ds.metainfo['classes'][13] == 'car' and (gt[:, :40] == 255).all()


def test_centre_crop_is_torchvisions_resize_and_crop():
    """A 480×640 image: torchvision truncates the long side to 426 (mmcv's Resize rounds to 427),
    then crops columns 53..372; nearest for the image as the authors' get_transform."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as TF
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    seg = np.tile((np.arange(640) // 3).astype(np.uint8), (480, 1))
    out = TRANSFORMS.build(dict(type='ShortSideCenterCrop', size=320))(
        dict(img=img, gt_seg_map=seg, ori_shape=(480, 640)))
    want = np.array(TF.center_crop(TF.resize(Image.fromarray(img), 320, InterpolationMode.NEAREST), 320))
    np.testing.assert_array_equal(out['img'], want)
    assert out['gt_seg_map'].shape == (320, 320) and out['ori_shape'] == out['img_shape'] == (320, 320)
    mmcv = TRANSFORMS.build(dict(type='Resize', scale=(4096, 320), keep_ratio=True, interpolation='nearest',
                                 backend='pillow'))(dict(img=img))
    assert mmcv['img'].shape[:2] == (320, 427)             # why the crop is not mmcv's Resize


@pytest.mark.parametrize('name,count,queries', [('cityscapes27', 27, 27), ('coco_stuff27', 27, 171),
                                                ('kitti_step', 19, 19)])
def test_class_lists_are_the_authors(name, count, queries):
    from clipseg.models.text import parse_classes
    names = parse_classes(str(REPO / f'configs/_base_/datasets/class_names/reco/{name}.txt'))
    assert (len(names), sum(map(len, names))) == (count, queries)
    if name == 'coco_stuff27':                          # a line per coarse class, its fine names
        removed = {11, 25, 28, 29, 44, 65, 67, 68, 70, 82, 90}   # COCO ids never in the maps, minus 1
        sizes = np.bincount([c for i, c in enumerate(COCO_FINE_TO_COARSE) if i not in removed])
        assert [len(n) for n in names] == sizes.tolist()
        assert 'tree' in names[COCO_STUFF27.index('plant')] and names[9] == ['person']
