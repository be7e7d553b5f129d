"""Reproduce the published tables: run each method's benchmark configs and compare with the papers.

    python tools/reproduce.py --data data [--methods sclip,naclip] [--datasets voc21,voc20]
        [--protocol paper|common] [--weights TAG_OR_FILE] [--checkpoint dinoiser=HEADS.pth]
        [--checkpoint denseclip_fpn_rn50_openai_512x512_80k_ade20k150=DENSECLIP.pth]
        [--configs CONFIG.py ...] [--work-dir work_dirs/reproduce] [--out results.json]
        [--cfg-options k=v ...] [--launcher pytorch]

For every (method, benchmark) it evaluates the config with the mmengine Runner (mmseg's IoUMetric),
then prints one table per method: our mIoU, the published mIoU (tools/published_miou.json, with
its source) and the difference. ``--protocol paper`` (default) runs each method's own protocol
(configs/{method}/), ``common`` runs SCLIP's protocol for every method (configs/common/).
Datasets follow mmseg's layout under ``--data`` (``data/VOCdevkit/VOC2012``, ...); a missing one
is reported with the folder expected and how to prepare it, and skipped. Trained methods
(``TRAINED``: DenseCLIP) run only with ``--checkpoint`` (``METHOD=FILE``, or ``CONFIG_STEM=FILE``
for one of a method's backbones); without one they are skipped with that reason. Distributed:
``torchrun --nproc_per_node N tools/reproduce.py ... --launcher pytorch``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from pathlib import Path

from mmengine.config import Config, DictAction
from mmengine.dist import get_rank

import clipseg  # noqa: F401  (registers clipseg into mmseg)
from clipseg.apis.configs import BENCHMARKS as DATASETS
from clipseg.apis.configs import CONFIG_ROOT
from clipseg.apis.inference import load_config
from clipseg.utils.errors import run_cli

METHODS = ('sclip', 'naclip', 'clearclip', 'maskclip', 'dinoiser', 'vanilla', 'denseclip', 'scclip', 'rfclip',
           'resclip', 'proxyclip', 'corrclip', 'cass',
           'trident', 'reco', 'ovseg')
TRAINED = ('denseclip', 'ovseg')    # no number without a trained checkpoint (--checkpoint)
EVERY_BACKBONE = ('denseclip', 'ovseg')   # one row per backbone; the others run their ViT config
PUBLISHED = Path(__file__).with_name('published_miou.json')
PREPARE = {
    'voc21': 'extract VOCtrainval_11-May-2012.tar into {data}/VOCdevkit (mmseg dataset_prepare.md, "Pascal VOC")',
    'voc20': 'the VOC21 folder: extract VOCtrainval_11-May-2012.tar into {data}/VOCdevkit',
    'context60': 'VOC2010 + trainval_merged.json, then mmseg\'s tools/dataset_converters/pascal_context.py '
                 '{data}/VOCdevkit {data}/VOCdevkit/VOC2010/trainval_merged.json',
    'context59': 'as Context60 (mmseg\'s tools/dataset_converters/pascal_context.py)',
    'coco_object': 'COCO-Stuff164k val2017 images and instance masks converted to '
                   '*_instanceTrainIds.png (SCLIP\'s datasets/cvt_coco_object.py) under {data}/coco_stuff164k',
    'coco_stuff171': 'COCO-Stuff164k, then mmseg\'s tools/dataset_converters/coco_stuff164k.py '
                     '{data}/coco_stuff164k',
    'cityscapes': 'leftImg8bit + gtFine into {data}/cityscapes, then mmseg\'s '
                  'tools/dataset_converters/cityscapes.py {data}/cityscapes',
    'ade20k150': 'extract ADEChallengeData2016.zip into {data}/ade',
    'cityscapes27': 'leftImg8bit + gtFine into {data}/cityscapes (the labelIds are read as they are)',
    'coco_stuff27': "STEGO's COCO-Stuff download (images/, annotations/, curated/) into {data}/cocostuff",
    'kitti_step': 'KITTI-STEP panoptic_maps/ and the frames of each sequence as val/<seq>/*.png under '
                  '{data}/kitti_step (docs/reco.md)',
    'ade20k847': "the full ADE20K (ADE20K_2021_17_01) into {data}, then ov-seg's "
                 'datasets/prepare_ade20k_full_sem_seg.py (images_detectron2/, annotations_detectron2/)',
    'context459': "as Context59, plus trainval/*.mat, labels.txt and pascalcontext_val.txt in "
                  "{data}/VOCdevkit/VOC2010, then ov-seg's datasets/prepare_pascal_context.py "
                  '(annotations_detectron2/pc459_val)',
    'region_masks': 'CorrCLIP\'s released SAM 2 masks: region_masks.zip of the Hugging Face dataset '
                    'dk258/CorrCLIP, unzipped into {data}/region_masks',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Reproduce the published zero-shot tables')
    parser.add_argument('--data', default='data', help='root holding the datasets in mmseg layout')
    parser.add_argument('--methods', default=','.join(METHODS[:5]))
    parser.add_argument('--datasets', default=','.join(DATASETS))
    parser.add_argument('--protocol', choices=['paper', 'common'], default='paper')
    parser.add_argument('--configs', nargs='+', help='explicit config files instead of the lists '
                        '(method and dataset read from each file name)')
    parser.add_argument('--weights', help='CLIP weights for every config: tag or local file')
    parser.add_argument('--checkpoint', action='append', default=[],
                        help='METHOD=FILE trained parts for a method, e.g. dinoiser=heads.pth')
    parser.add_argument('--work-dir', default='work_dirs/reproduce')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--verbose', action='store_true', help="keep the Runner's INFO logs")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def split_name(path: Path):
    """'naclip_vit-b16_openai_whole336_voc21.py' → ('naclip', 'voc21', stem)."""
    ds = next((d for d in DATASETS if path.stem.endswith('_' + d)), None)
    return path.stem.split('_')[0], ds, path.stem


def find_configs(methods, datasets, protocol):
    """(method, dataset, config stem) → config path for the chosen protocol."""
    out = {}
    for method in methods:
        folder = CONFIG_ROOT / ('common' if protocol == 'common' and method != 'sclip' else method)
        for path in sorted(folder.glob(f'{method}_*.py')):
            m, ds, stem = split_name(path)
            if m == method and ds in datasets and (method in EVERY_BACKBONE or '_rn50_' not in stem):
                out[(method, ds, stem)] = path
    return out


def checkpoint_for(args, method: str, stem: str):
    """The ``--checkpoint`` given for this config (``CONFIG_STEM=FILE``) or method (``METHOD=FILE``)."""
    given = dict(item.partition('=')[::2] for item in args.checkpoint)
    return given.get(stem) or given.get(method)


def published_miou(published: dict, method: str, ds: str, stem: str):
    """The published number for a row: a number per benchmark, or per backbone (a dict keyed by
    the backbone token of the config name, e.g. ``{"rn50": 43.5, "vit-b16": 50.6}``)."""
    value = published.get(method, {}).get('miou', {}).get(ds)
    if isinstance(value, dict):
        return next((v for k, v in value.items() if f'_{k}_' in stem), None)
    return value


def missing_data(cfg: Config, data: str):
    """Paths the test split needs that are not there (after moving the root under ``data``)."""
    ds = cfg.test_dataloader.dataset
    root = ds.data_root
    if root.startswith('data/'):
        root = osp.join(data, root[len('data/'):])
    ds.data_root = root
    masks = cfg.model.get('mask_source') or {}
    mask_root = None
    if masks.get('type') == 'FolderMasks':         # CorrCLIP's released region masks
        mask_root = masks.root
        if mask_root.startswith('data/'):
            mask_root = masks.root = osp.join(data, mask_root[len('data/'):])
    if not osp.isdir(root):
        return [root] + ([mask_root] if mask_root and not osp.isdir(mask_root) else [])
    need = [osp.join(root, p) for p in ds.get('data_prefix', {}).values()]
    if ds.get('ann_file'):
        need.append(osp.join(root, ds.ann_file))
    if mask_root:
        need.append(mask_root)
    sam = cfg.model.get('sam') or {}
    if sam.get('checkpoint'):                      # Trident's SAM weights, a local file
        need.append(sam.checkpoint)
    clip_file = (cfg.model.get('clip') or {}).get('pretrained') or ''
    if cfg.model.get('type') == 'OVSegSegmentor' and clip_file.endswith(('.pt', '.pth')):
        need.append(clip_file)                     # OVSeg's fine-tuned CLIP (convert_checkpoint)
    if cfg.model.get('type') == 'ReCoSegmentor' and not cfg.model.get('index'):
        need.append('model.index, an index of ImageNet-1K train (tools/build_index.py; '
                    '--cfg-options model.index=DIR)')
    return [p for p in need if not osp.exists(p)]


def evaluate(path: Path, args, method: str, index: int):
    """mIoU of one config, or the reasons it was skipped (missing folders, a missing checkpoint)."""
    from mmengine.runner import Runner
    cfg = load_config(str(path), args.weights, args.cfg_options)
    cfg.launcher = args.launcher
    ckpt = checkpoint_for(args, method, path.stem)
    if ckpt:
        cfg.load_from = ckpt
    elif method in TRAINED:
        return [f'a trained checkpoint: --checkpoint {path.stem}=FILE (or {method}=FILE)']
    missing = missing_data(cfg, args.data)
    if missing:
        return missing
    cfg.work_dir = osp.join(args.work_dir, path.stem)
    cfg.experiment_name = f'{path.stem}_{index}'
    if cfg.get('visualizer'):
        cfg.visualizer.name = f'visualizer_{index}'   # one per Runner in this process
    if not args.verbose:
        cfg.log_level = 'WARNING'
        cfg.default_hooks.pop('visualization', None)   # nothing is drawn here; keep the run quiet
    metrics = Runner.from_cfg(cfg).test()
    return float(metrics['mIoU'])


def row_name(method: str, ds: str, stem: str) -> str:
    """The benchmark, or benchmark:backbone for methods reported per backbone."""
    return f'{ds}:{stem.split("_")[2]}' if method in EVERY_BACKBONE else ds


def table(method: str, rows, published: dict) -> str:
    src = published.get(method, {})
    lines = [f'{method} ({"published: " + src["source"] if src.get("source") else "no published numbers transcribed"})',
             f'  {"benchmark":<14}{"ours":>8}{"paper":>8}{"diff":>8}']
    for ds, stem, ours in rows:
        paper = published_miou(published, method, ds, stem)
        fmt = lambda v: f'{v:8.2f}' if isinstance(v, float) else f'{"–":>8}'  # noqa: E731
        diff = ours - paper if isinstance(ours, float) and paper is not None else None
        lines.append(f'  {row_name(method, ds, stem):<14}{fmt(ours)}{fmt(paper)}{fmt(diff)}')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.configs:
        jobs = {split_name(Path(p)): Path(p) for p in args.configs}
        if any(ds is None for _, ds, _ in jobs):
            raise SystemExit('each --configs file name must end with a benchmark name: '
                             + ', '.join(DATASETS))
    else:
        methods = [m for m in args.methods.split(',') if m]
        datasets = [d for d in args.datasets.split(',') if d]
        unknown = [m for m in methods if m not in METHODS] + [d for d in datasets if d not in DATASETS]
        if unknown:
            raise SystemExit(f'unknown methods/benchmarks {unknown}; methods: {METHODS}, '
                             f'benchmarks: {DATASETS}')
        jobs = find_configs(methods, datasets, args.protocol)
    if args.launcher == 'pytorch':
        from mmengine.dist import init_dist
        init_dist('pytorch', backend='gloo' if not __import__('torch').cuda.is_available() else 'nccl')
    published = json.loads(PUBLISHED.read_text())
    results, skipped = {}, {}
    for index, ((method, ds, stem), path) in enumerate(sorted(jobs.items())):
        out = evaluate(path, args, method, index)
        if isinstance(out, list):
            skipped[(method, ds, stem)] = out
        else:
            results.setdefault(method, []).append((ds, stem, out))
    if get_rank() != 0:
        return 0
    for (method, ds, stem), missing in sorted(skipped.items()):
        hint = '' if missing[0].startswith(('a trained', 'model.index')) else \
            '.\n  Prepare it: ' + PREPARE[ds].format(data=args.data)
        if any(m.endswith('_clip.pt') for m in missing):
            hint += ('\n  OVSeg\'s CLIP: python tools/convert_checkpoint.py '
                     'ovseg_swinbase_vitL14_ft_mpt.pth checkpoints/ovseg_swin-b_vit-l14_ft-mpt.pth '
                     '--from ovseg (writes ..._clip.pt beside it)')
        if any(m.endswith('.pth') for m in missing):
            hint += ('\n  SAM ViT-B weights: sam_vit_b_01ec64.pth (github.com/facebookresearch/'
                     'segment-anything), or --cfg-options model.sam.checkpoint=FILE')
        if any('region_masks' in m for m in missing):
            hint += '\n  ' + PREPARE['region_masks'].format(data=args.data)
        print(f'skipped {method} on {row_name(method, ds, stem)}: missing {", ".join(missing)}{hint}',
              file=sys.stderr)
    report = {}
    for method, rows in results.items():
        print(table(method, rows, published))
        # mIoU in % to two decimals, as mmseg's IoUMetric prints it (no float32 noise in the file)
        report[method] = {row_name(method, ds, stem): {
            'ours': None if v is None else round(float(v), 2),
            'paper': published_miou(published, method, ds, stem)} for ds, stem, v in rows}
    if args.out:
        from clipseg.utils import write_atomically
        write_atomically(args.out, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2)))
    if not results:
        print('nothing was evaluated: no dataset found under ' + repr(args.data), file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
