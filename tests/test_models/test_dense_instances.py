"""Training-free instances from dense maps: regions, boxes, scores, NMS, and the detector."""
import numpy as np
import pytest

pytest.importorskip('mmdet', reason='detection needs mmdet (the onedl set installs it)')
import torch

from clipseg.models.detectors import instances_from_maps


def _planted():
    labels = torch.zeros(40, 60, dtype=torch.long)
    labels[5:15, 5:20] = 1        # two separate class-1 regions
    labels[25:35, 40:55] = 1
    labels[20:30, 10:20] = 2      # one class-2 region
    labels[0:2, 58:60] = 2        # 4 pixels: below min_area
    probs = torch.full((3, 40, 60), 0.1)
    for k in range(3):
        probs[k][labels == k] = 0.5 + 0.1 * k
    probs[1, 25:35, 40:55] = 0.9
    return probs, labels


def test_regions_become_instances_with_exact_boxes_and_mean_scores():
    probs, labels = _planted()
    found = instances_from_maps(probs, labels, skip=(0,), min_area=10)
    order = torch.argsort(found.bboxes[:, 0] * 100 + found.bboxes[:, 1])
    boxes = found.bboxes[order].tolist()
    assert boxes == [[5, 5, 20, 15], [10, 20, 20, 30], [40, 25, 55, 35]]
    assert found.labels[order].tolist() == [1, 2, 1]
    np.testing.assert_allclose(found.scores[order].numpy(), [0.6, 0.7, 0.9], rtol=1e-6)
    assert found.masks.shape == (3, 40, 60) and found.masks.dtype == torch.bool
    for box, mask in zip(found.bboxes, found.masks):    # each box is its mask's extent
        ys, xs = torch.nonzero(mask, as_tuple=True)
        assert box.tolist() == [xs.min().item(), ys.min().item(), xs.max().item() + 1,
                                ys.max().item() + 1]
    assert scores_sorted(found.scores)


def scores_sorted(scores):
    return bool(torch.all(scores[:-1] >= scores[1:]))


def test_threshold_background_and_empty_maps():
    probs, labels = _planted()
    found = instances_from_maps(probs, labels, skip=(0,), min_area=10, prob_thr=0.8)
    assert found.bboxes.tolist() == [[40, 25, 55, 35]]
    found = instances_from_maps(probs, labels, skip=(), min_area=10)
    assert 0 in found.labels.tolist()                  # background kept when not skipped
    empty = instances_from_maps(probs, torch.zeros(40, 60, dtype=torch.long), skip=(0,))
    assert empty.bboxes.shape == (0, 4) and empty.masks.shape == (0, 40, 60)
    assert len(empty.labels) == len(empty.scores) == 0


def test_max_per_image_keeps_the_best():
    probs, labels = _planted()
    found = instances_from_maps(probs, labels, skip=(0,), min_area=10, max_per_img=1)
    assert found.scores.tolist() == pytest.approx([0.9])


@pytest.mark.parametrize('method', ['sclip_vit-b16_openai_slide336', 'naclip_vit-b16_openai_slide336',
                                    'clearclip_vit-b16_openai_slide448'])
def test_coco_instance_configs_build_under_mmdet_with_a_tiny_clip(method):
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS
    from clipseg.apis.inference import load_config
    from ..conftest import TINY_VIT
    cfg = load_config(f'instances_{method}_coco')      # the segmentation config's model, inherited
    assert cfg.default_scope == 'mmdet' and cfg.test_evaluator.type == 'CocoMetric'
    cfg.model.segmentor.clip = dict(model_name='tiny', model_cfg=TINY_VIT)
    init_default_scope('mmdet')
    model = MODELS.build(cfg.model)
    assert model.background == 1 and len(model.class_names()) == 80


def test_instance_configs_inherit_their_segmentation_config():
    """The segmentor of an instance config is the model of the segmentation config it names, as
    mmdet's own tools build it (a plain Config) and as clipseg's loader resolves it."""
    from mmengine.config import Config
    from clipseg.apis.inference import find_config, load_config
    from clipseg.models.detectors.dense_instances import segmentor_config
    from ..conftest import REPO
    for path in sorted((REPO / 'configs' / 'instances').glob('instances_*.py')):
        ref = Config.fromfile(str(path)).model.segmentor.to_dict()
        seg = find_config(ref['config']).model.to_dict()
        seg['type'] = 'mmseg.' + seg['type']
        # OV-COCO / LVIS configs: the same model with the benchmark's class list
        seg.update({k: v for k, v in ref.items() if k in ('class_names', 'allow_shared_names')})
        assert ref['config'].endswith('_coco_object') and segmentor_config(ref) == seg, path.stem
        assert load_config(path.stem).model.segmentor.to_dict() == seg
        if not path.stem.endswith('_coco'):
            assert ref['class_names'].endswith(('ov_coco65.txt', 'lvis_v1.txt')), path.stem
    child = segmentor_config(dict(ref, clip=dict(_delete_=True, model_name='tiny'),
                                  test_cfg=dict(prob_thd=0.7)))   # a config inheriting it
    assert child['clip'] == dict(model_name='tiny') and child['test_cfg']['prob_thd'] == 0.7
    assert child['test_cfg']['mode'] == seg['test_cfg']['mode']


def test_checkpoints_that_do_not_fit_are_refused(tmp_path):
    """A checkpoint of another model is refused by name; the wrapped segmentor's own heads
    checkpoint (keys without ``segmentor.``) loads into it."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmdet.registry import MODELS
    from ..conftest import TINY_DINO, TINY_VIT, tiny_dinoiser
    heads = tiny_dinoiser().state_dict()              # a CLIP-DINOiser heads checkpoint (mmseg)
    init_default_scope('mmdet')
    torch.manual_seed(0)
    det = MODELS.build(dict(type='DenseInstanceDetector', background=1, segmentor=dict(
        type='mmseg.ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
        class_names='background,cat,dog')))
    torch.save({'state_dict': {'decode_head.conv_seg.weight': torch.zeros(3, 8, 1, 1)}},
               tmp_path / 'seg.pth')
    with pytest.raises(ValueError, match=r"does not fit DenseInstanceDetector over "
                                         r"ZeroShotSegmentor: 1 of its 1 keys .*decode_head"):
        load_checkpoint(det, str(tmp_path / 'seg.pth'))
    torch.save({'state_dict': heads}, tmp_path / 'heads.pth')
    det = MODELS.build(dict(type='DenseInstanceDetector', background=1, segmentor=dict(
        type='mmseg.CLIPDINOiser', clip=dict(model_name='tiny', model_cfg=TINY_VIT), proj_dim=16,
        class_names='background,cat,dog', teacher=TINY_DINO)))
    assert not det.segmentor.parts_ready
    load_checkpoint(det, str(tmp_path / 'heads.pth'))
    assert det.segmentor.parts_ready
    key = next(iter(heads))
    torch.testing.assert_close(det.segmentor.state_dict()[key], heads[key])


def test_an_object_in_the_hole_of_a_same_class_ring_is_kept():
    """Box IoU 0.52, mask IoU 0: box NMS dropped the inner object; both are instances."""
    labels = torch.zeros(60, 60, dtype=torch.long)
    labels[5:55, 5:55] = 1
    labels[12:48, 12:48] = 0          # the ring's hole
    labels[19:41, 19:41] = 1          # an object of the same class inside it
    probs = torch.full((2, 60, 60), 0.2)
    probs[1][labels == 1] = 0.8
    found = instances_from_maps(probs, labels, skip=(0,), min_area=10, nms_iou=0.5)
    assert sorted(found.bboxes.tolist()) == [[5, 5, 55, 55], [19, 19, 41, 41]]
    assert (found.masks.sum(dim=(1, 2)).sort().values == torch.tensor([22 * 22, 50 * 50 - 36 * 36])).all()


def test_a_low_probability_stripe_does_not_split_an_instance():
    labels = torch.zeros(40, 60, dtype=torch.long)
    labels[10:30, 5:55] = 1
    probs = torch.full((2, 40, 60), 0.1)
    probs[1][labels == 1] = 0.9
    probs[1, 10:30, 29:31] = 0.3      # a stripe below prob_thr across the region
    found = instances_from_maps(probs, labels, skip=(0,), min_area=10, prob_thr=0.5)
    assert len(found) == 1 and found.bboxes.tolist() == [[5, 10, 55, 30]]
    assert found.masks[0].sum() == 20 * 48 and found.scores[0] == pytest.approx(0.9)
