import subprocess
import sys

import cv2
import pytest
import torch
from mmengine.runner.checkpoint import _load_checkpoint

from ..conftest import REPO
from .test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them

CONFIG = 'configs/denseclip/denseclip_fpn_tiny-rn_random_128x128_300it_synthetic.py'


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp('synthetic')
    res = subprocess.run([sys.executable, 'tools/make_synthetic_dataset.py', str(out), '--train', '12',
                          '--val', '4', '--size', '64'], cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return out


def test_synthetic_dataset_layout_and_planted_colours(synthetic):
    names = (synthetic / 'class_names.txt').read_text().split('\n')
    assert names[:2] == ['background', 'red circle']
    imgs = sorted((synthetic / 'img_dir' / 'train').glob('*.png'))
    assert len(imgs) == 12 and len(list((synthetic / 'ann_dir' / 'val').glob('*.png'))) == 4
    for path in imgs:
        img = cv2.imread(str(path)).astype(float)
        lab = cv2.imread(str(synthetic / 'ann_dir' / 'train' / path.name), cv2.IMREAD_UNCHANGED)
        assert lab.shape == img.shape[:2] and lab.max() < 5 and (lab > 0).any()
        red = img[lab == 1]
        if len(red):
            assert red[:, 2].mean() > 150 and red[:, 0].mean() < 110   # BGR: red dominates


def overrides(root, iters):
    return ['--cfg-options', *(f'{k}.dataset.data_root={root}' for k in
                               ('train_dataloader', 'val_dataloader', 'test_dataloader')),
            'train_dataloader.batch_size=2', 'train_cfg.val_interval=1000',
            f'train_cfg.max_iters={iters}', 'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
            'model.data_preprocessor.size=[64,64]']


def with_validation(args, every):
    args = list(args)
    args[args.index('train_cfg.val_interval=1000')] = f'train_cfg.val_interval={every}'
    return args


def test_resume_ends_where_an_unbroken_run_ends(synthetic, tmp_path):
    """Dropout on, validation in between: the resumed run repeats the unbroken one bit for bit."""
    unbroken, broken = tmp_path / 'unbroken', tmp_path / 'broken'
    out = run(['tools/train.py', CONFIG, '--work-dir', str(unbroken), *with_validation(overrides(synthetic, 6), 2)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    out = run(['tools/train.py', CONFIG, '--work-dir', str(broken), *with_validation(overrides(synthetic, 4), 2)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    out = run(['tools/train.py', CONFIG, '--work-dir', str(broken), '--resume',
               *with_validation(overrides(synthetic, 6), 2)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'resumed' in (out.stdout + out.stderr).lower()
    a = _load_checkpoint(str(unbroken / 'iter_6.pth'), map_location='cpu')['state_dict']
    b = _load_checkpoint(str(broken / 'iter_6.pth'), map_location='cpu')['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=0, rtol=0, msg=k)
    c = _load_checkpoint(str(broken / 'iter_4.pth'), map_location='cpu')['state_dict']
    assert any(not torch.equal(a[k], c[k]) for k in a)   # the last two iterations did train


def test_validation_reports_miou(synthetic, tmp_path):
    out = run(['tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'w'),
               *with_validation(overrides(synthetic, 2), 2)])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'mIoU' in out.stdout + out.stderr and 'red circle' in out.stdout + out.stderr


def test_two_process_denseclip_training_under_torchrun(synthetic, tmp_path):
    import os
    env = dict(os.environ, HF_HUB_OFFLINE='1', PORT='29518',
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    out = subprocess.run(['bash', 'tools/dist_train.sh', CONFIG, '2', '--work-dir', str(tmp_path / 'w'),
                          *overrides(synthetic, 2)], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log and 'Iter(train) [2/2]' in log
