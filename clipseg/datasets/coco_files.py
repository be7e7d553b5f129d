"""Check a detection config's COCO files before any work: a missing annotation file or image
folder is an error naming it, not a traceback from inside pycocotools mid-run."""
import os.path as osp


def _loader_files(loader) -> list:
    ds = loader['dataset']
    root = ds.get('data_root') or ''
    files = [('annotation file', osp.join(root, ds['ann_file']))] if ds.get('ann_file') else []
    img = (ds.get('data_prefix') or {}).get('img')
    if img is not None:
        files.append(('image folder', osp.join(root, img)))
    return files


def check_coco_files(cfg, *loops: str) -> None:
    """For each of ``loops`` ('train', 'val', 'test'): the dataloader's annotation file and image
    folder exist, and the evaluator reads the dataloader's annotation file (kept in step when
    ``--data-root`` moved it)."""
    for loop in loops:
        loader = cfg.get(f'{loop}_dataloader')
        if not loader:
            continue
        for what, path in _loader_files(loader):
            if not osp.exists(path):
                raise FileNotFoundError(f'{loop} {what} not found: {path} (set --data-root or '
                                        f'{loop}_dataloader.dataset.data_root)')
        evaluator = cfg.get(f'{loop}_evaluator')
        ds = loader['dataset']
        if isinstance(evaluator, dict) and 'ann_file' in evaluator and ds.get('ann_file'):
            evaluator['ann_file'] = osp.join(ds.get('data_root') or '', ds['ann_file'])
