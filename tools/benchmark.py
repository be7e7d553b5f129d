"""Speed of clipseg's inference paths against the floor: a bare open_clip image-tower forward over
exactly the crops the segmentor processes, in the same run, on the same inputs.

    python tools/benchmark.py [--model ViT-B-16] [--weights TAG_OR_FILE] [--device cpu]
                              [--runs 3] [--json out.json]
                              [--sections main,text,size,classes,batch,options,onnx,caches]
                              [--precision fp32|fp16|bf16] [--channels-last] [--compile]

Reports images/s, ms/image, peak memory and the ratio to the floor: each run times the floor
and then the method on the same inputs, and the ratio is the median of the per-run ratios
(after --warmup runs). Text embeddings are cached before timing except in the 'text' section. With no
--weights the models have random weights: speed does not depend on them.

--precision/--channels-last/--compile apply to the floor and to the methods alike. The 'options'
section times MaskCLIP and DINOiser (slide, --batch) under each option against the fp32 floor and
against the floor run with the same option.
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
from clipseg.models.attention import short_names
from clipseg.models.segmentors.fast_backbone import FastBackbone
from clipseg.models.segmentors.windows import slide_windows
from clipseg.utils.errors import run_cli
from mmseg.registry import MODELS

VARIANTS = tuple(short_names())   # every registered last-block attention
# what a method needs besides its attention (RF-CLIP: its text side, with the ADE20K weights;
# ProxyCLIP, CorrCLIP, CASS: the DINO ViT-B/8 proxy, random weights unless --proxy-checkpoint; CorrCLIP's
# regions from DINO clusters, SAM's time not included)
METHOD_PARTS = {'rfclip': dict(backbone_cfg=dict(with_global=True), decode_head=dict(
    type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05, cluster_distance=0.06)),
    'proxyclip': dict(proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino',
                                 pretrained=False),
                      backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56)),
    'corrclip': dict(proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino',
                                pretrained=False),
                     mask_source=dict(type='DINOClusterMasks'),   # regions without a mask model
                     backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56)),
    'cass': dict(proxy=dict(type='TimmProxy', model_name='vit_base_patch8_224.dino', pretrained=False),
                 backbone_cfg=dict(with_global=True), decode_head=dict(
                     type='RFCLIPHead', global_weight=0.3, nudge_weight=0.05, cluster_distance=0.06,
                     linkage='ward'))}


def method_parts(args, attention):
    parts = {k: dict(v) for k, v in METHOD_PARTS.get(attention, {}).items()}
    if 'proxy' in parts and getattr(args, 'proxy_checkpoint', None):
        parts['proxy'].update(checkpoint=args.proxy_checkpoint)
    return parts


def extra_models(seg):
    """The second models a segmentor runs besides CLIP: its proxy (DINO) and SAM (Trident)."""
    sam = getattr(seg, 'sam', None)
    parts = [getattr(seg.backbone, 'proxy', None)]
    if sam is not None:
        parts += [sam.image_encoder, sam.prompt_encoder, sam.mask_decoder]
    return [m for m in parts if m is not None]


class ProxyShare:
    """The share of a run's wall time spent in the segmentor's extra models (``extra_models``)."""

    def __init__(self, seg):
        self.models = extra_models(seg)
        self.spent = 0.0

    def __call__(self, fn):
        if not self.models:
            return 0.0
        starts, hooks = [], []
        for m in self.models:
            hooks.append(m.register_forward_pre_hook(lambda *a: starts.append(time.perf_counter())))
            hooks.append(m.register_forward_hook(
                lambda *a: setattr(self, 'spent', self.spent + time.perf_counter() - starts.pop())))
        self.spent, start = 0.0, time.perf_counter()
        try:
            fn()
        finally:
            for h in hooks:
                h.remove()
        return round(self.spent / (time.perf_counter() - start), 3)


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


def clock(fn, device):
    """Seconds ``fn()`` takes, with the GPU synchronised before and after."""
    sync = torch.cuda.synchronize if torch.device(device).type == 'cuda' else (lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def timed(fn, device, runs, warmup, floor=None):
    """Median seconds of ``fn()`` over ``runs`` after ``warmup``, and peak memory of the runs.

    With ``floor`` (a second callable), each run times the floor right before ``fn`` and the
    ratio is the median of the per-run ratios: slow drifts of a shared machine cancel out.
    Returns (seconds, peak MiB, floor seconds or None, ratio or None)."""
    for _ in range(warmup):
        fn()
        if floor is not None:
            floor()
    times, floors = [], []
    with PeakMemory(device) as mem:
        for _ in range(runs):
            if floor is not None:
                floors.append(clock(floor, device))
            times.append(clock(fn, device))
    if floor is None:
        return statistics.median(times), mem.mib, None, None
    ratio = statistics.median(t / f for t, f in zip(times, floors))
    return statistics.median(times), mem.mib, statistics.median(floors), ratio


def speed_options(args):
    """The test_cfg speed options the command line asks for."""
    compile = False
    if args.compile:
        compile = dict(mode=args.compile) if args.compile != 'default' else True
    return dict(precision=args.precision, channels_last=args.channels_last, compile=compile)


def build_segmentor(args, attention, mode, crop, stride, classes, templates='name_only',
                    options=None):
    clip = dict(model_name=args.model, pretrained=args.weights)
    test_cfg = dict(mode=mode, crop_size=(crop, crop), stride=(stride, stride),
                    max_windows=args.max_windows, keep_logits=False,
                    **(options or speed_options(args)))
    if attention == 'trident':   # its own segmentor: random DINO ViT-B/16 and SAM ViT-B
        cfg = dict(type='TridentSegmentor', clip=clip, templates=templates, class_names=classes,
                   proxy=dict(type='TimmProxy', model_name='vit_base_patch16_224.dino',
                              pretrained=False),
                   sam=dict(variant='vit_b', pretrained=False), backbone_cfg=dict(pad='drop'),
                   test_cfg=dict(test_cfg, sam_refine=True))
        seg = MODELS.build(cfg).to(args.device).eval()
        seg.class_embeddings()
        return seg
    if attention == 'dinoiser':
        cfg = dict(type='CLIPDINOiser', clip=clip, templates=templates, class_names=classes,
                   test_cfg=test_cfg, allow_random_heads=True)  # speed only: heads untrained
    else:
        cfg = dict(type='ZeroShotSegmentor', clip=clip, attention=attention, templates=templates,
                   class_names=classes, test_cfg=test_cfg, **method_parts(args, attention))
    seg = MODELS.build(cfg).to(args.device).eval()
    seg.class_embeddings()  # cache the text embeddings: not part of the timing
    return seg


def floor_fn(args, images, mode, crop, stride, cache, options=None):
    """A bare open_clip ``visual`` forward over the crops ``mode`` would process, with the same
    precision, layout and compilation as the methods."""
    options = options or speed_options(args)
    H, W = images.shape[-2:]
    if mode == 'whole':
        size, crops = (H, W), images
    else:
        wins = slide_windows(H, W, (crop, crop), (stride, stride))
        size = (min(crop, H), min(crop, W))
        crops = torch.cat([images[:, :, y1:y2, x1:x2] for y1, x1, y2, x2 in wins])
    key = (size, options['channels_last'], repr(options['compile']))
    if key not in cache:  # the segmentors' FastBackbone applies the options, here too
        visual = open_clip.create_model(args.model, force_image_size=size).visual
        cache[key] = (visual.to(args.device).eval(), FastBackbone())
    visual, fast = cache[key]
    chunk = args.max_windows

    @torch.no_grad()
    def run():
        for start in range(0, crops.shape[0], chunk):
            fast(visual, crops[start:start + chunk], **options)
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
        for batch in sorted({1, args.batch}):
            images = make_images(batch, args.short, args.device)
            floor, n_win = floor_fn(args, images, mode, args.crop, args.stride, floors)
            secs, mem, _, _ = timed(floor, args.device, args.runs, args.warmup)
            rows.append(row('floor (open_clip visual)', mode, batch, secs, mem, 1.0, batch, n_win))
            print_row(rows[-1])
            for method in args.methods.split(','):
                if method in ('dinoiser', 'trident') and mode == 'whole':   # slide only
                    continue
                seg = build_segmentor(args, method, mode, args.crop, args.stride, classes)
                secs, mem, _, ratio = timed(lambda: seg.predict(images), args.device, args.runs,
                                            args.warmup, floor=floor)
                rows.append(row(method, mode, batch, secs, mem, ratio, batch, n_win))
                if extra_models(seg):
                    rows[-1]['proxy_share'] = ProxyShare(seg)(lambda: seg.predict(images))
                print_row(rows[-1])
                del seg
    return rows


def section_text(args):
    from clipseg.models.clip.loader import create_clip
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


def section_caches(args):
    """PAMR as NACLIP runs it (10 iterations, dilations 8 and 16, 56 queries at 336×448) against
    the stacked formula it replaced (one (1, 56, 16, H, W) stack per iteration); the ViT's
    positional embedding resized on every call against kept per grid."""
    from clipseg.models.backbones import CLIPViT
    from clipseg.models.clip.loader import create_clip
    from clipseg.models.clip.positions import resize_pos_embed
    from clipseg.models.pamr import PAMR, _shifted
    gen = torch.Generator().manual_seed(0)
    image = torch.rand(1, 3, 336, 448, generator=gen).to(args.device)
    mask = (2 * torch.rand(1, 56, 21, 28, generator=gen) - 1).to(args.device)   # cosine scale
    pamr = PAMR(num_iter=10, dilations=(8, 16))

    def stacked():      # Eq. 4 with the neighbours stacked, as before
        full = torch.nn.functional.interpolate(mask, size=image.shape[-2:], mode='bilinear',
                                               align_corners=True)
        std = _shifted(image, pamr.dilations, True).std(dim=2, keepdim=True)
        diff = (_shifted(image, pamr.dilations, False) - image.unsqueeze(2)).abs()
        aff = torch.softmax((-diff / (1e-8 + 0.1 * std)).mean(dim=1, keepdim=True), dim=2)
        for _ in range(pamr.num_iter):
            full = (_shifted(full, pamr.dilations, False) * aff).sum(dim=2)
        return full

    rows = []
    ours_s, ours_mib, _, _ = timed(lambda: pamr(image, mask), args.device, args.runs, args.warmup)
    ref_s, ref_mib, _, _ = timed(stacked, args.device, args.runs, args.warmup)
    diff = (pamr(image, mask) - stacked()).abs().max().item()
    rows.append(dict(part='pamr 10 iter, 56 queries, 336x448', before_ms=round(1000 * ref_s, 1),
                     after_ms=round(1000 * ours_s, 1), speedup=round(ref_s / ours_s, 2),
                     before_peak_mib=round(ref_mib), after_peak_mib=round(ours_mib),
                     max_abs_diff=float(f'{diff:.2g}')))
    visual = create_clip(args.model, args.weights)[0].visual.to(args.device)
    adapter = CLIPViT(visual=visual, attention='maskclip')
    pe, grid = visual.positional_embedding, (args.crop // 16, args.crop // 16 + 7)
    src = (int((pe.shape[0] - 1) ** 0.5),) * 2
    calls = 200
    fresh_s = clock(lambda: [resize_pos_embed(pe, src, grid, 'exact') for _ in range(calls)],
                    args.device) / calls
    adapter.positions(grid)
    kept_s = clock(lambda: [adapter.positions(grid) for _ in range(calls)], args.device) / calls
    rows.append(dict(part=f'pos-embed resize {src} -> {grid}', before_ms=round(1000 * fresh_s, 3),
                     after_ms=round(1000 * kept_s, 3), speedup=round(fresh_s / kept_s, 1),
                     before_peak_mib=None, after_peak_mib=None, max_abs_diff=0.0))
    for r in rows:
        print(f"caches: {r}")
    return rows


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


def section_options(args, floors):
    """Each speed option alone (and fp16/bf16 with channels-last and compile), MaskCLIP and
    DINOiser in slide mode at --batch: ratio to the floor with the same option and to fp32's."""
    base = dict(precision='fp32', channels_last=False, compile=False)
    settings = [('fp32', base), ('channels-last', dict(base, channels_last=True)),
                ('compile', dict(base, compile=True))]
    for p in ('bf16', 'fp16'):
        settings += [(p, dict(base, precision=p)),
                     (f'{p} + channels-last + compile', dict(precision=p, channels_last=True,
                                                             compile=True))]
    if args.skip_options:
        settings = [s for s in settings if not any(k in s[0] for k in args.skip_options.split(','))]
    classes = [f'class {i}' for i in range(21)]
    images = make_images(args.batch, args.short, args.device)
    fp32_floor, n_win = floor_fn(args, images, 'slide', args.crop, args.stride, floors, base)
    rows = []
    for name, options in settings:
        floor, _ = floor_fn(args, images, 'slide', args.crop, args.stride, floors, options)
        fns = {'floor (open_clip visual)': floor}
        for method in args.methods.split(','):
            if method in ('maskclip', 'dinoiser'):
                seg = build_segmentor(args, method, 'slide', args.crop, args.stride, classes,
                                      options=options)
                fns[method] = lambda seg=seg: seg.predict(images)
        times, mems = clock_each(fns, fp32_floor, args.device, args.runs, args.warmup)
        for method, secs in times.items():
            r = row(method, 'slide', args.batch, statistics.median(secs), mems[method],
                    statistics.median(t / f for t, f in zip(secs, times['floor (open_clip visual)'])),
                    args.batch, n_win)
            r.update(options=name, speedup_vs_fp32_floor=round(statistics.median(
                f / t for t, f in zip(secs, times['fp32 floor'])), 3))
            if method != 'fp32 floor':
                rows.append(r)
                print_row(r)
        del fns
    return rows


def section_onnx(args, floors):
    """MaskCLIP on one image, whole mode: PyTorch, the ONNX export under onnxruntime (CPU) and its
    dynamic int8 quantisation, each against the floor; int8 also with its label agreement."""
    import tempfile

    import numpy as np
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from clipseg.apis.export import export_onnx
    classes = [f'class {i}' for i in range(21)]
    images = make_images(1, args.short, args.device)
    floor, n_win = floor_fn(args, images, 'whole', args.crop, args.stride, floors)
    seg = build_segmentor(args, 'maskclip', 'whole', args.crop, args.stride, classes)
    rows = []
    secs, mem, _, ratio = timed(lambda: seg.predict(images), args.device, args.runs, args.warmup,
                                floor=floor)
    rows.append(row('maskclip (PyTorch)', 'whole', 1, secs, mem, ratio, 1, n_win))
    print_row(rows[-1])
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = os.path.join(tmp, 'fp32.onnx'), os.path.join(tmp, 'int8.onnx')
        export_onnx(seg, fp32, tuple(images.shape[-2:]), dynamic=False)
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
        feeds = {'image': images.cpu().numpy()}
        labels = {}
        for name, path in (('onnxruntime fp32', fp32), ('onnxruntime int8 (dynamic)', int8)):
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = torch.get_num_threads()
            session = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
            labels[name] = session.run(['labels'], feeds)[0]
            secs, mem, _, ratio = timed(lambda: session.run(['labels'], feeds), args.device,
                                        args.runs, args.warmup, floor=floor)
            rows.append(row(name, 'whole', 1, secs, mem, ratio, 1, n_win))
            rows[-1]['label_agreement_vs_fp32'] = round(float(np.mean(
                labels[name] == labels['onnxruntime fp32'])), 4)
            print_row(rows[-1])
    return rows


def clock_each(fns, fp32_floor, device, runs, warmup):
    """Per-run seconds of each callable and of ``fp32_floor``, timed one after the other in
    every run (after ``warmup`` untimed runs), and each callable's peak memory."""
    fns = dict(fns, **{'fp32 floor': fp32_floor})
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times, mems = {k: [] for k in fns}, {k: 0.0 for k in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            with PeakMemory(device) as mem:
                times[name].append(clock(fn, device))
            mems[name] = max(mems[name], mem.mib)
    return times, mems


def print_row(r):
    keys = ('options', 'method', 'mode', 'batch', 'windows', 'short_side', 'classes',
            'ms_per_image', 'images_per_s', 'peak_mib', 'ratio_to_floor', 'proxy_share',
            'speedup_vs_fp32_floor')
    print(' | '.join(f'{k}={r[k]}' for k in keys if k in r), flush=True)


def markdown(rows, keys):
    lines = ['| ' + ' | '.join(keys) + ' |', '|' + '---|' * len(keys)]
    lines += ['| ' + ' | '.join(str(r.get(k, '')) for k in keys) + ' |' for r in rows]
    return '\n'.join(lines)


@torch.no_grad()  # restored on return: the in-process test runs other tests afterwards
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
    parser.add_argument('--sections', default='main,text,size,classes,batch,caches')
    parser.add_argument('--methods', default=','.join(VARIANTS + ('dinoiser',)),
                        help='methods of the main table')
    parser.add_argument('--modes', default='slide,whole', help='modes of the main table')
    parser.add_argument('--proxy-checkpoint', help='weights of the proxy model (ProxyCLIP\'s DINO '
                        'ViT-B/8); random without (speed does not depend on them)')
    parser.add_argument('--precision', default='fp32', choices=['fp32', 'fp16', 'bf16'],
                        help='autocast dtype of the backbone (floor and methods)')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--compile', nargs='?', const='default', default=None,
                        help='torch.compile the backbones; optional mode, e.g. max-autotune')
    parser.add_argument('--skip-options', default='',
                        help="comma list of option names to leave out of the 'options' section")
    parser.add_argument('--json')
    args = parser.parse_args(argv)
    floors, report = {}, dict(device=args.device, model=args.model, torch=torch.__version__,
                              threads=torch.get_num_threads(), options=speed_options(args))
    if torch.device(args.device).type == 'cuda':
        report['gpu'] = torch.cuda.get_device_name()
    for section in args.sections.split(','):
        print(f'== {section}', flush=True)
        if section == 'main':
            report['main'] = section_main(args, floors)
        elif section == 'text':
            report['text'] = section_text(args)
        elif section == 'options':
            report['options_table'] = section_options(args, floors)
        elif section == 'onnx':
            report['onnx'] = section_onnx(args, floors)
        elif section == 'caches':
            report['caches'] = section_caches(args)
        else:
            report[section] = section_scaling(args, floors, section)
    if 'main' in report:
        print(markdown(report['main'], ['method', 'mode', 'batch', 'windows', 'ms_per_image',
                                        'images_per_s', 'peak_mib', 'ratio_to_floor', 'proxy_share']))
    if 'options_table' in report:
        print(markdown(report['options_table'], ['options', 'method', 'batch', 'windows',
                                                 'ms_per_image', 'images_per_s', 'peak_mib',
                                                 'ratio_to_floor', 'speedup_vs_fp32_floor']))
    if 'onnx' in report:
        print(markdown(report['onnx'], ['method', 'mode', 'batch', 'ms_per_image', 'images_per_s',
                                        'ratio_to_floor', 'label_agreement_vs_fp32']))
    if 'caches' in report:
        print(markdown(report['caches'], ['part', 'before_ms', 'after_ms', 'speedup',
                                          'before_peak_mib', 'after_peak_mib', 'max_abs_diff']))
    for s in ('size', 'classes', 'batch'):
        if s in report:
            print(markdown(report[s], ['short_side', 'classes', 'batch', 'windows', 'ms_per_image',
                                       'ms_per_window', 'ratio_to_floor']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
