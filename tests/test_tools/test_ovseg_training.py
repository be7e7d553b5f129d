"""Mask prompt tuning through tools/train.py on the synthetic shapes: only the prompts train, and
the tuned prompts name held-out ground-truth masks far better than the untuned CLIP."""
import ast
import subprocess
import sys

import pytest

from ..conftest import REPO
from .test_test_py import run

pytestmark = pytest.mark.slow

CONFIG = 'configs/ovseg/ovseg_mpt_tiny-vit_random_64_300it_synthetic.py'


def _metrics(out):
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_prompt_tuning_beats_the_untuned_clip(tmp_path):
    data = tmp_path / 'shapes'
    made = subprocess.run([sys.executable, 'tools/make_synthetic_dataset.py', str(data), '--train', '120',
                           '--val', '20'], cwd=REPO, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    roots = [f'{k}.dataset.data_root={data}' for k in ('train_dataloader', 'val_dataloader',
                                                        'test_dataloader')]
    out = run(['tools/train.py', CONFIG, '--work-dir', str(tmp_path / 'wd'), '--cfg-options', *roots,
               'train_cfg.max_iters=100', 'train_cfg.val_interval=1000',
               'default_hooks.checkpoint.interval=100', 'param_scheduler.1.end=100'])
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    untuned = _metrics(run(['tools/test.py', CONFIG, '--work-dir', str(tmp_path / 'base'),
                            '--cfg-options', *roots, 'model.mask_prompt_depth=0']))
    tuned = _metrics(run(['tools/test.py', CONFIG, '--checkpoint', str(tmp_path / 'wd' / 'iter_100.pth'),
                          '--work-dir', str(tmp_path / 'tuned'), '--cfg-options', *roots]))
    assert tuned['mAcc'] > untuned['mAcc'] + 30 and tuned['aAcc'] > untuned['aAcc'] + 20, (untuned, tuned)
