import pytest
from mmengine.runner.checkpoint import _load_checkpoint

from ..conftest import REPO, write_tiny_dinoiser_config
from .test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them

TRAIN_OVERRIDES = """
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 64), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(64, 64)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
                        dataset=dict(num_samples=None, pipeline=train_pipeline))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4, val_interval=10 ** 9)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
"""


def test_train_then_test_on_voc_mini(tmp_path, voc_mini):
    cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_train448_imagenet.py', extra=TRAIN_OVERRIDES)
    work = tmp_path / 'work'
    out = run(['tools/train.py', str(cfg), '--work-dir', str(work), '--cfg-options',
               f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'loss_corr' in out.stdout + out.stderr
    ckpt = work / 'iter_4.pth'
    state = _load_checkpoint(str(ckpt), map_location='cpu')['state_dict']
    assert set(state) == {'obj_proj.weight', 'obj_proj.bias', 'bkg_decoder.weight', 'bkg_decoder.bias'}

    test_cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_slide448_voc21.py', name='test.py')
    out = run(['tools/test.py', str(test_cfg), '--checkpoint', str(ckpt), '--data-root', str(voc_mini),
               '--work-dir', str(tmp_path / 'test_wd')])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'per class results' in out.stdout + out.stderr and "'mIoU'" in out.stdout
    assert 'missing keys' not in (out.stdout + out.stderr).lower()

    # resume continues from the last checkpoint
    out = run(['tools/train.py', str(cfg), '--work-dir', str(work), '--resume', '--cfg-options',
               f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}', 'train_cfg.max_iters=6'])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    assert 'resumed' in (out.stdout + out.stderr).lower() and (work / 'iter_6.pth').exists()


def test_two_process_training_under_torchrun(tmp_path, voc_mini):
    """tools/dist_train.sh → torchrun → mmengine's pytorch launcher (gloo on CPU)."""
    import os
    import subprocess
    import sys
    cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_train448_imagenet.py',
        extra=TRAIN_OVERRIDES.replace('batch_size=2', 'batch_size=1').replace('max_iters=4', 'max_iters=2'))
    env = dict(os.environ, HF_HUB_OFFLINE='1', PORT='29517',
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ['PATH'])
    out = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir', str(tmp_path / 'w'),
                          '--cfg-options', f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'Distributed training: True' in log and 'Iter(train) [2/2]' in log
    assert (tmp_path / 'w' / 'iter_2.pth').exists()


def test_cached_teacher_training_reuses_targets_from_the_second_epoch(tmp_path, voc_mini):
    cache = tmp_path / 'teacher_cache'
    cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_train448_imagenet_cached.py', extra="""
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(4096, 64), keep_ratio=True),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                        sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
                        dataset=dict(num_samples=None, pipeline=train_pipeline))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=6, val_interval=10 ** 9)
default_hooks = dict(checkpoint=dict(interval=6), logger=dict(interval=1))
""")
    out = run(['tools/train.py', str(cfg), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
               f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}',
               f'model.teacher_cache_dir={cache}'])
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    images = len(list((voc_mini / 'JPEGImages').glob('*.jpg')))
    assert len(list(cache.rglob('*.pt'))) == images          # 6 iterations, one file per image
    hits = [line.split('teacher_cache_hits: ')[1].split()[0] for line in log.splitlines()
            if 'teacher_cache_hits: ' in line]
    assert len(hits) == 6
    assert [float(h) for h in hits[:images]] == [0.0] * images
    assert [float(h) for h in hits[images:]] == [1.0] * (6 - images)
