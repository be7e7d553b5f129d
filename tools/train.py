"""Train a clipseg model with the mmengine Runner (single process, or torchrun via dist_train.sh).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp] [--cfg-options k=v ...]
"""
import argparse
import os
import sys
import os.path as osp

from mmengine.config import DictAction
from mmengine.runner import Runner

import clipseg  # noqa: F401  (registers clipseg into mmseg)
from clipseg.apis.inference import is_detection_config, load_config
from clipseg.datasets.coco_files import check_coco_files
from clipseg.compat.safe_loading import allow_unsafe_loading
from clipseg.utils.errors import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description='Train a clipseg model')
    parser.add_argument('config', help='config file or config name under configs/')
    parser.add_argument('--work-dir', help='where checkpoints and logs go')
    parser.add_argument('--data-root', help='dataset root overriding the config (every loader)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from the latest checkpoint in work-dir, or from CKPT')
    parser.add_argument('--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. train_dataloader.batch_size=4')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='UNSAFE: load checkpoints with full pickle (can run code); only for '
                             'files you trust')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def init_cpu_distributed(cfg) -> None:
    """mmengine's torchrun launcher assumes CUDA; on CPU-only machines start gloo ourselves."""
    import torch
    import torch.distributed as dist
    if cfg.launcher == 'pytorch' and not torch.cuda.is_available() and not dist.is_initialized():
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None,
                                     broadcast_buffers=False, find_unused_parameters=False)
        dist.init_process_group(backend='gloo')


def main():
    args = parse_args()
    if args.unsafe_load:
        allow_unsafe_loading()
    cfg = load_config(args.config, cfg_options=args.cfg_options)
    cfg.launcher = args.launcher
    if args.data_root:
        for loop in ('train', 'val', 'test'):
            if cfg.get(f'{loop}_dataloader'):
                cfg[f'{loop}_dataloader'].dataset.data_root = args.data_root
    if is_detection_config(cfg):
        try:
            check_coco_files(cfg, 'train', 'val')
        except FileNotFoundError as err:
            raise SystemExit(f'error: {err}')
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(cfg.filename or 'config'))[0])
    if args.amp:
        import torch
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU (mmengine\'s AmpOptimWrapper); on the CPU train '
                             'without it, in fp32')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    init_cpu_distributed(cfg)
    Runner.from_cfg(cfg).train()
    import torch.distributed as dist
    if dist.is_initialized():
        dist.barrier()                 # every rank done before any tears down its connections
        dist.destroy_process_group()   # gloo's threads stop before interpreter exit, not during


if __name__ == '__main__':
    sys.exit(run_cli(main))
