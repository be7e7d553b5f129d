"""DenseCLIP detection (RetinaNet, Mask R-CNN) on the synthetic shapes world: the score map and its
auxiliary loss, training through tools/train.py, exact resume, and wrong-world checkpoints."""
import subprocess
import sys

import pytest

pytest.importorskip('mmdet', reason='detection needs mmdet (the onedl set installs it)')
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from ..conftest import REPO
from .test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them

RETINANET = 'configs/denseclip/denseclip_retinanet_tiny-rn_random_128x128_synthetic.py'
MASK_RCNN = 'configs/denseclip/denseclip_mask-rcnn_tiny-rn_random_128x128_synthetic.py'


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp('shapes')
    res = subprocess.run([sys.executable, 'tools/make_synthetic_dataset.py', str(out), '--train', '12',
                          '--val', '4', '--size', '96'], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def build(config):
    import clipseg  # noqa: F401
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    torch.manual_seed(0)
    return MODELS.build(Config.fromfile(str(REPO / config)).model)


def test_score_targets_are_the_boxes_of_each_class():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    model = build(RETINANET)
    sample = DetDataSample()
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[8., 16., 40., 32.], [0., 0., 12., 8.]]),
                                       labels=torch.tensor([2, 0]))
    target, weight = model.score_targets((64, 64), [sample])
    assert target.shape == (1, 4, 16, 16) and weight.shape == (1, 1, 16, 16)
    assert target[0, 2, 4:8, 2:10].all() and target[0, 2].sum() == 4 * 8
    assert target[0, 0, 0:2, 0:3].all() and target[0, 0].sum() == 2 * 3
    assert target[0, 1].sum() == 0 and weight.sum() == 4 * 8 + 2 * 3


@pytest.mark.parametrize('config', [RETINANET, MASK_RCNN])
def test_loss_has_the_auxiliary_term_and_trains_prompts_not_the_text_tower(config, shapes):
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(REPO / config))
    cfg.train_dataloader.dataset.data_root = str(shapes) + '/'
    cfg.train_dataloader.batch_size = 2
    model = build(config)                           # sets mmdet's scope for the dataset too
    loader = Runner.build_dataloader(cfg.train_dataloader)
    model.train()
    data = model.data_preprocessor(next(iter(loader)), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert 'loss_aux_seg' in losses and torch.isfinite(losses['loss_aux_seg'])
    total = sum(v if torch.is_tensor(v) else sum(v) for v in losses.values())
    total.backward()
    assert model.prompt.contexts.grad is not None and model.prompt.contexts.grad.abs().sum() > 0
    assert any(p.grad is not None for p in model.context_decoder.parameters())
    assert model.backbone.visual.conv1.weight.grad is not None
    frozen = [p for n, p in model.prompt.named_parameters() if n != 'contexts']
    assert frozen and all(p.grad is None and not p.requires_grad for p in frozen)


def overrides(root, iters):
    return ['--data-root', f'{root}/', '--cfg-options', 'train_dataloader.batch_size=2',
            f'train_cfg.max_iters={iters}', 'train_cfg.val_interval=1000',
            'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1']


def test_retinanet_trains_validates_and_resumes_exactly(shapes, tmp_path):
    unbroken, broken = tmp_path / 'unbroken', tmp_path / 'broken'
    out = run(['tools/train.py', RETINANET, '--work-dir', str(unbroken), *overrides(shapes, 6),
               'train_cfg.val_interval=6'])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'Iter(val)' in out.stdout + out.stderr      # CocoMetric ran (6 iterations find little)
    out = run(['tools/train.py', RETINANET, '--work-dir', str(broken), *overrides(shapes, 4)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    out = run(['tools/train.py', RETINANET, '--work-dir', str(broken), '--resume',
               *overrides(shapes, 6)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    a = _load_checkpoint(str(unbroken / 'iter_6.pth'), map_location='cpu')['state_dict']
    b = _load_checkpoint(str(broken / 'iter_6.pth'), map_location='cpu')['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=0, rtol=0, msg=k)
    c = _load_checkpoint(str(broken / 'iter_4.pth'), map_location='cpu')['state_dict']
    assert any(not torch.equal(a[k], c[k]) for k in a)
    # a detection checkpoint is refused by a segmentation config, naming the problem
    seg = run(['tools/test.py', 'configs/denseclip/denseclip_fpn_tiny-rn_random_128x128_300it_synthetic.py',
               '--checkpoint', str(unbroken / 'iter_6.pth'), '--data-root', str(shapes)])
    assert seg.returncode != 0 and 'checkpoint' in seg.stderr.lower()


def test_a_segmentation_checkpoint_is_refused_by_a_detector(tmp_path):
    model = build(RETINANET)
    with pytest.raises(ValueError, match='not a DenseCLIPRetinaNet checkpoint'):
        model.load_state_dict({'backbone.visual.conv1.weight': torch.zeros(1),
                               'decode_head.conv_seg.weight': torch.zeros(1)}, strict=False)


def test_missing_coco_annotations_are_named(tmp_path):
    out = run(['tools/train.py', RETINANET, '--data-root', str(tmp_path / 'none') + '/',
               '--work-dir', str(tmp_path / 'w')])
    assert out.returncode != 0 and 'annotation file not found' in out.stderr
    assert not (tmp_path / 'w').exists()


def test_detect_api_on_a_denseclip_detector(shapes):
    import numpy as np
    import clipseg
    model = clipseg.init_model(str(REPO / MASK_RCNN))
    out = clipseg.detect(model, str(shapes / 'img_dir' / 'val' / '00000.png'))
    n = len(out['scores'])
    assert out['bboxes'].shape == (n, 4) and out['masks'].shape == (n, 96, 96)
    assert out['classes'] == ['red circle', 'green square', 'blue triangle', 'yellow star']
    assert np.all(out['labels'] < 4)
    with pytest.raises(ValueError, match='trained on its own classes'):
        clipseg.detect(model, str(shapes / 'img_dir' / 'val' / '00000.png'), classes='cat')
