"""Evaluate a clipseg config through the mmengine Runner: mmseg's metrics for segmentation
configs, mmdet's (CocoMetric) for detection configs (``default_scope='mmdet'``).

    python tools/test.py CONFIG [--weights TAG_OR_PATH] [--checkpoint CKPT] [--data-root DIR]
                                [--work-dir DIR] [--cfg-options k=v ...] [--show-dir DIR]
"""
import argparse
import os
import sys
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import clipseg  # noqa: F401  (registers clipseg into mmseg)
from clipseg.apis.inference import is_detection_config, load_config
from clipseg.datasets.coco_files import check_coco_files
from clipseg.compat.safe_loading import allow_unsafe_loading
from clipseg.utils.errors import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description='Evaluate a clipseg segmentor or detector')
    parser.add_argument('config', help='config file or config name under configs/')
    parser.add_argument('--weights', help='CLIP weights: open_clip pretrained tag or local file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint (e.g. DINOiser heads)')
    parser.add_argument('--data-root', help='dataset root overriding the config')
    parser.add_argument('--work-dir', help='where logs and results go')
    parser.add_argument('--show-dir', help='save painted predictions here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.test_cfg.mode=whole')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='UNSAFE: load checkpoints with full pickle (can run code); only for '
                             'files you trust')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    if args.unsafe_load:
        allow_unsafe_loading()
    cfg: Config = load_config(args.config, args.weights, args.cfg_options)
    cfg.launcher = args.launcher
    if args.data_root:
        cfg.test_dataloader.dataset.data_root = args.data_root
    if is_detection_config(cfg):
        try:
            check_coco_files(cfg, 'test')
        except FileNotFoundError as err:
            raise SystemExit(f'error: {err}')
    if args.checkpoint:
        cfg.load_from = args.checkpoint
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(cfg.filename or 'config'))[0])
    if args.show_dir:
        cfg.default_hooks.visualization.update(draw=True, show=False, interval=1)
        cfg.visualizer.save_dir = args.show_dir
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    print({k: round(float(v), 2) for k, v in metrics.items()})


if __name__ == '__main__':
    sys.exit(run_cli(main))
