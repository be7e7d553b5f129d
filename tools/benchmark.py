"""Speed of clipseg's inference paths against the floor: a bare open_clip image-tower forward over
exactly the crops the segmentor processes, in the same run, on the same inputs.

    python tools/benchmark.py [--model ViT-B-16] [--weights TAG_OR_FILE] [--device cpu]
                              [--runs 3] [--json out.json] [--sections main,text,size,classes,batch]

Reports images/s, ms/image, peak memory and the ratio to the floor: each run times the floor
and then the method on the same inputs, and the ratio is the median of the per-run ratios
(after --warmup runs). Text embeddings are cached before timing except in the 'text' section. With no
--weights the models have random weights: speed does not depend on them.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time

import open_clip
import torch

import clipseg  # noqa: F401
from clipseg.models.segmentors.windows import slide_windows
from mmseg.registry import MODELS

VARIANTS = ('vanilla', 'maskclip', 'sclip', 'clearclip', 'naclip')


class PeakMemory:
    """Peak extra memory while the block runs: CUDA allocator peak, or resident set on the CPU."""

    def __init__(self, device):
        self.device = torch.device(device)

    def _rss(self):
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def __enter__(self):
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.base = torch.cuda.memory_allocated()
        else:
            self.base = self.peak = self._rss()
            self.running = True
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self._rss())
            time.sleep(0.002)

    def __exit__(self, *exc):
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            self.mib = (torch.cuda.max_memory_allocated() - self.base) / 2 ** 20
        else:
            self.running = False
            self.thread.join()
            self.mib = (self.peak - self.base) / 2 ** 20


def timed(fn, device, runs, warmup, floor=None):
    """Median seconds of ``fn()`` over ``runs`` after ``warmup``, and peak memory of the runs.

    With ``floor`` (a second callable), each run times the floor right before ``fn`` and the
    ratio is the median of the per-run ratios: slow drifts of a shared machine cancel out.
    Returns (seconds, peak MiB, floor seconds or None, ratio or None)."""
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' else (lambda: None)

    def clock(f):
        sync()
        start = time.perf_counter()
        f()
        sync()
        return time.perf_counter() - start
    for _ in range(warmup):
        fn()
        if floor is not None:
            floor()
    times, floors = [], []
    with PeakMemory(device) as mem:
        for _ in range(runs):
            if floor is not None:
                floors.append(clock(floor))
            times.append(clock(fn))
    if floor is None:
        return statistics.median(times), mem.mib, None, None
    ratio = statistics.median(t / f for t, f in zip(times, floors))
    return statistics.median(times), mem.mib, statistics.median(floors), ratio


def build_segmentor(args, attention, mode, crop, stride, classes, templates='name_only'):
    clip = dict(model_name=args.model, pretrained=args.weights)
    test_cfg = dict(mode=mode, crop_size=(crop, crop), stride=(stride, stride),
                    max_windows=args.max_windows, keep_logits=False)
    if attention == 'dinoiser':
        cfg = dict(type='CLIPDINOiser', clip=clip, templates=templates, class_names=classes,
                   test_cfg=test_cfg)
    else:
        cfg = dict(type='ZeroShotSegmentor', clip=clip, attention=attention, templates=templates,
                   class_names=classes, test_cfg=test_cfg)
    seg = MODELS.build(cfg).to(args.device).eval()
    seg.class_embeddings()  # cache the text embeddings: not part of the timing
    return seg


def floor_fn(args, images, mode, crop, stride, cache):
    """A bare open_clip ``visual`` forward over the crops ``mode`` would process."""
    H, W = images.shape[-2:]
    if mode == 'whole':
        size, crops = (H, W), images
    else:
        wins = slide_windows(H, W, (crop, crop), (stride, stride))
        size = (min(crop, H), min(crop, W))
        crops = torch.cat([images[:, :, y1:y2, x1:x2] for y1, x1, y2, x2 in wins])
    key = size
    if key not in cache:
        model = open_clip.create_model(args.model, force_image_size=size)
        cache[key] = model.visual.to(args.device).eval()
    visual = cache[key]
    chunk = args.max_windows

    @torch.no_grad()
    def run():
        for start in range(0, crops.shape[0], chunk):
            visual(crops[start:start + chunk])
    return run, crops.shape[0]


def make_images(batch, short, device, aspect=4 / 3):
    torch.manual_seed(0)
    return torch.randn(batch, 3, short, int(round(short * aspect / 16)) * 16, device=device)


def row(name, mode, batch, secs, mem, ratio, n_images, windows):
    ms = 1000 * secs / n_images
    return dict(method=name, mode=mode, batch=batch, windows=windows, ms_per_image=round(ms, 1),
                images_per_s=round(n_images / secs, 3), peak_mib=round(mem, 1),
                ratio_to_floor=round(ratio, 3))


def section_main(args, floors):
    rows = []
    classes = [f'class {i}' for i in range(21)]
    for mode in args.modes.split(','):
        for batch in (1, args.batch):
            images = make_images(batch, args.short, args.device)
            floor, n_win = floor_fn(args, images, mode, args.crop, args.stride, floors)
            secs, mem, _, _ = timed(floor, args.device, args.runs, args.warmup)
            rows.append(row('floor (open_clip visual)', mode, batch, secs, mem, 1.0, batch, n_win))
            print_row(rows[-1])
            for method in args.methods.split(','):
                if method == 'dinoiser' and mode == 'whole':
                    continue
                seg = build_segmentor(args, method, mode, args.crop, args.stride, classes)
                secs, mem, _, ratio = timed(lambda: seg.predict(images), args.device, args.runs,
                                            args.warmup, floor=floor)
                rows.append(row(method, mode, batch, secs, mem, ratio, batch, n_win))
                print_row(rows[-1])
                del seg
    return rows


def section_text(args):
    from clipseg.models.clip_loader import create_clip
    from clipseg.models.text import TextClassifier, read_class_file
    names = read_class_file(os.path.join(os.path.dirname(__file__), '..', 'configs', '_base_',
                                         'datasets', 'class_names', 'coco_stuff171.txt'))
    model, tok = create_clip(args.model, args.weights)
    clf = TextClassifier(model.to(args.device), tok, templates=args.text_templates)
    start = time.perf_counter()
    clf(names)
    cold = time.perf_counter() - start
    forwards = clf.num_text_forwards
    start = time.perf_counter()
    clf(names)
    cached = time.perf_counter() - start
    out = dict(classes=len(names), prompts=sum(len(n.split(';')) for n in names) * len(clf.templates),
               cold_s=round(cold, 3), cached_ms=round(1000 * cached, 3),
               text_forwards_cold=forwards, text_forwards_cached=clf.num_text_forwards - forwards)
    print(f"text: {out}")
    return [out]


def section_scaling(args, floors, what):
    rows = []
    settings = {'size': [(s, 21, 1) for s in (336, 448, 672, 1024)],
                'classes': [(args.short, k, 1) for k in (21, 150, 171, 1000)],
                'batch': [(args.short, 21, b) for b in (1, 2, 4, 8)]}[what]
    segs = {}
    for short, k, batch in settings:
        images = make_images(batch, short, args.device)
        floor, n_win = floor_fn(args, images, 'slide', args.crop, args.stride, floors)
        if k not in segs:
            segs[k] = build_segmentor(args, 'maskclip', 'slide', args.crop, args.stride,
                                      [f'class {i}' for i in range(k)])
        secs, mem, _, ratio = timed(lambda: segs[k].predict(images), args.device, args.runs,
                                    args.warmup, floor=floor)
        r = row('maskclip', 'slide', batch, secs, mem, ratio, batch, n_win)
        r.update(short_side=short, classes=k, ms_per_window=round(1000 * secs / n_win, 1))
        rows.append(r)
        print_row(r)
    return rows


def print_row(r):
    keys = ('method', 'mode', 'batch', 'windows', 'short_side', 'classes', 'ms_per_image',
            'images_per_s', 'peak_mib', 'ratio_to_floor')
    print(' | '.join(f'{k}={r[k]}' for k in keys if k in r), flush=True)


def markdown(rows, keys):
    lines = ['| ' + ' | '.join(keys) + ' |', '|' + '---|' * len(keys)]
    lines += ['| ' + ' | '.join(str(r.get(k, '')) for k in keys) + ' |' for r in rows]
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--model', default='ViT-B-16')
    parser.add_argument('--weights', default=None)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--short', type=int, default=336, help='short side of the test images')
    parser.add_argument('--crop', type=int, default=224)
    parser.add_argument('--stride', type=int, default=112)
    parser.add_argument('--batch', type=int, default=4, help='the batched rows use this batch')
    parser.add_argument('--max-windows', type=int, default=16)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--text-templates', default='openai_imagenet')
    parser.add_argument('--sections', default='main,text,size,classes,batch')
    parser.add_argument('--methods', default=','.join(VARIANTS + ('dinoiser',)),
                        help='methods of the main table')
    parser.add_argument('--modes', default='slide,whole', help='modes of the main table')
    parser.add_argument('--json')
    args = parser.parse_args(argv)
    torch.set_grad_enabled(False)
    floors, report = {}, dict(device=args.device, model=args.model, torch=torch.__version__,
                              threads=torch.get_num_threads())
    for section in args.sections.split(','):
        print(f'== {section}', flush=True)
        if section == 'main':
            report['main'] = section_main(args, floors)
        elif section == 'text':
            report['text'] = section_text(args)
        else:
            report[section] = section_scaling(args, floors, section)
    if 'main' in report:
        print(markdown(report['main'], ['method', 'mode', 'batch', 'windows', 'ms_per_image',
                                        'images_per_s', 'peak_mib', 'ratio_to_floor']))
    for s in ('size', 'classes', 'batch'):
        if s in report:
            print(markdown(report[s], ['short_side', 'classes', 'batch', 'windows', 'ms_per_image',
                                       'ms_per_window', 'ratio_to_floor']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
