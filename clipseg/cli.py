"""The ``clipseg`` command: a thin front over the demo and the config lists.

    clipseg segment IMAGE --classes "bus,car,road,sky" [--out out.png] [demo options]
    clipseg segment FOLDER|'GLOB'|LIST.txt --classes ... --out OUT_DIR [--label-maps] [--batch-size 4]
    clipseg label-masks IMAGE --masks DIR|FILE --classes "bus,car,road,sky" [--out out.png]
    clipseg list [PATTERN] [--models]

``segment`` is ``demo/image_demo.py``; ``list`` prints the shipped config names
(``clipseg.list_configs``), or with ``--models`` only those that segment any image.
"""
import argparse
import os
import sys
import warnings

import numpy as np

import clipseg
from clipseg.apis.configs import (DEFAULT_CONFIG, DEFAULT_DET_CONFIG, find_config, is_detection_config,
                                  list_configs, list_models)
from clipseg.apis.visualize import overlay, save_image, save_label_map
from clipseg.models.text import parse_classes, read_class_file
from clipseg.models.text.class_names import NAMES_FILE_RULE
from clipseg.models.text.templates import TEMPLATE_SETS
from clipseg.utils import check_suffix, ensure_writable, load_image, terminate_as_interrupt
from clipseg.utils.atomic import IMAGE_OUTPUT_SUFFIXES
from clipseg.utils.image_io import MAX_PIXELS, set_max_pixels


def add_segment_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('image', help='an image, a folder, a quoted glob or a .txt list of paths')
    names = parser.add_mutually_exclusive_group(required=True)
    names.add_argument('--classes', help='"bus,car,road,sky" (";" joins synonyms: "person;people"); '
                                         + NAMES_FILE_RULE.replace('%', '%%'))
    names.add_argument('--classes-file', help='a names file: one class per line, ";" joins synonyms')
    parser.add_argument('--out', default=None,
                        help='overlay picture to write (default out.png); for many images a folder '
                             '(default out/)')
    parser.add_argument('--label-maps', action='store_true',
                        help='many images: also write <name>_labels.png next to each overlay')
    parser.add_argument('--batch-size', type=int, default=4, help='images per forward')
    parser.add_argument('--config', default=None,
                        help=f'config file or name (default {DEFAULT_CONFIG}; with --task det '
                             f'{DEFAULT_DET_CONFIG})')
    parser.add_argument('--task', choices=['seg', 'det'], default=None,
                        help='seg: label map; det: instances (boxes, masks, scores). Default: '
                             "the config's (a detection config is det)")
    parser.add_argument('--score-thr', type=float, default=0.3, help='det: instances drawn from')
    parser.add_argument('--weights', help='CLIP weights: pretrained tag or local checkpoint file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint (e.g. DINOiser heads)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--precision', choices=['fp32', 'fp16', 'bf16'], default=None,
                        help="CLIP forward under autocast (e.g. fp16 on a GPU); default: the config's")
    parser.add_argument('--label-map', help='also write the raw label map (palette PNG)')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--templates', choices=sorted(TEMPLATE_SETS), default=None,
                        help="prompt template set (default: the config's; 'a_photo_of' is 80x "
                             'faster to encode than the 80 ImageNet templates)')
    parser.add_argument('--index', default=None,
                        help='ReCo configs: an image collection indexed by tools/build_index.py')
    parser.add_argument('--random-heads', action='store_true',
                        help='run trained parts (DINOiser heads, DenseCLIP) untrained, on purpose')
    parser.add_argument('--max-pixels', type=int, default=None,
                        help=f'refuse images with more pixels (default {MAX_PIXELS:,}, a '
                             'decompression-bomb guard; 0: no limit)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='UNSAFE: load checkpoints with full pickle (can run code); only for '
                             'files you trust')


def class_list(args):
    """The classes of ``--classes`` (names, or a path by the stated rule) or ``--classes-file``."""
    if args.classes_file is not None:
        if not os.path.isfile(os.path.expanduser(args.classes_file)):
            raise FileNotFoundError(f'--classes-file not found: {args.classes_file!r}')
        return [';'.join(c) for c in parse_classes(read_class_file(
            os.path.expanduser(args.classes_file)))]
    return [';'.join(c) for c in parse_classes(args.classes)]


def apply_limits(args) -> None:
    if args.unsafe_load:
        from clipseg.compat.safe_loading import allow_unsafe_loading
        allow_unsafe_loading()
    if args.max_pixels is not None:
        set_max_pixels(args.max_pixels)


def segment(args) -> int:
    apply_limits(args)
    if args.config is None:
        args.config = DEFAULT_DET_CONFIG if args.task == 'det' else DEFAULT_CONFIG
    try:
        if args.task == 'det' or (args.task is None and is_detection_config(find_config(args.config))):
            return detect(args)
    except FileNotFoundError as err:
        print(f'error: --config: {err}', file=sys.stderr)
        return 2
    from clipseg.apis.inputs import expand_inputs
    try:
        paths = expand_inputs(args.image)
    except FileNotFoundError as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if len(paths) > 1 or paths[0] != args.image:
        return segment_many(args, paths)
    args.out = args.out or 'out.png'
    try:
        with terminate_as_interrupt():
            check_suffix(args.out, '--out')
            if args.label_map:
                check_suffix(args.label_map, '--label-map', ('.png',))
            for path, what in ((args.out, '--out'), (args.label_map, '--label-map')):
                if path:
                    ensure_writable(path, what)
            classes = class_list(args)
            image = load_image(args.image)
            model = build_model(args)
            result = clipseg.segment(model, image, classes=classes)
            names, share = result['classes'], result['pixel_share']
            save_image(args.out, overlay(image, result['label_map'], names, share, args.opacity))
            if args.label_map:
                save_label_map(args.label_map, result['label_map'], len(names), names,
                               sidecar=True)
    except (ValueError, OSError, RuntimeError, ImportError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for name, s, score in sorted(zip(names, share, result['class_scores']), key=lambda t: -t[1]):
        print(f'{name:>24s}  {100 * s:5.1f}% of pixels   mean prob {score:.3f}')
    print(f'wrote {args.out}' + (f' and {args.label_map}' if args.label_map else ''))
    return 0



def detect(args) -> int:
    """One image → instances of the classes, drawn with mmdet's visualiser (boxes, masks, labels,
    scores) into ``--out``; the instances are printed. Nothing found is a result, not an error."""
    args.out = args.out or 'out.png'
    try:
        with terminate_as_interrupt():
            check_suffix(args.out, '--out')
            ensure_writable(args.out, '--out')
            classes = class_list(args)
            if not is_detection_config(find_config(args.config)):
                raise ValueError(f'{args.config!r} is a segmentation config: --task det needs a '
                                 "detection config (clipseg list 'instances_*')")
            image = load_image(args.image)
            model = build_model(args)
            result = clipseg.detect(model, image, classes=classes)
            save_image(args.out, draw_instances(image, result, args.score_thr))
    except (ValueError, OSError, RuntimeError, ImportError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    keep = result['scores'] >= args.score_thr
    for box, label, score in zip(result['bboxes'][keep], result['labels'][keep], result['scores'][keep]):
        # the score in % as the picture draws it (mmdet's visualiser writes round(100 · score, 1))
        print(f"{result['classes'][label]:>24s}  {100 * score:5.1f}%  box "
              f"{np.round(box).astype(int).tolist()}")
    print(f'{int(keep.sum())} instances with score >= {args.score_thr}; wrote {args.out}')
    return 0


def draw_instances(image, result, score_thr):
    """BGR image + ``clipseg.detect`` result → BGR picture drawn by mmdet's DetLocalVisualizer."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.visualization import DetLocalVisualizer
    from mmengine.structures import InstanceData
    from clipseg.apis.visualize import make_palette
    sample = DetDataSample()
    found = dict(bboxes=torch.from_numpy(result['bboxes']), labels=torch.from_numpy(result['labels']),
                 scores=torch.from_numpy(result['scores']))
    if 'masks' in result:
        found['masks'] = torch.from_numpy(result['masks'])
    sample.pred_instances = InstanceData(**found)
    # mmdet sizes a label by its box (13 px × 0.5-1.0): small boxes get 6-px text; here a label is
    # at least 11 px, and grows with the picture (1/60 of its short side)
    least = max(11, min(image.shape[:2]) // 60)

    class ReadableLabels(DetLocalVisualizer):
        def draw_texts(self, texts, positions, font_sizes=None, **kwargs):
            if font_sizes is not None:
                font_sizes = ([max(int(f), least) for f in font_sizes]
                              if isinstance(font_sizes, (list, tuple)) else max(int(font_sizes), least))
            return super().draw_texts(texts, positions, font_sizes=font_sizes, **kwargs)

    vis = ReadableLabels(name=f'clipseg_{id(sample)}')
    vis.dataset_meta = dict(classes=result['classes'],
                            palette=[tuple(int(v) for v in c[::-1]) for c in make_palette(len(result['classes']))])
    with warnings.catch_warnings():
        # a box or mask reaching the right/bottom edge ends at W/H (an exclusive end, inside the
        # picture), which mmengine's position check reports as out of bounds
        warnings.filterwarnings('ignore', message=r'Warning: The (bbox|polygon) is out of bounds')
        vis.add_datasample('result', image[..., ::-1], sample, draw_gt=False,
                           pred_score_thr=score_thr)
    return np.ascontiguousarray(vis.get_image()[..., ::-1])


def build_model(args):
    options = {}
    if args.precision:
        options['model.test_cfg.precision'] = args.precision
    if args.templates:
        options['model.templates'] = args.templates
    if args.random_heads:
        options['model.allow_random_heads'] = True
    if getattr(args, 'index', None):
        if not os.path.isdir(args.index):
            raise FileNotFoundError(f'--index not found: {args.index!r} (build one with '
                                    'tools/build_index.py FOLDER --out DIR)')
        options['model.index'] = args.index
    return clipseg.init_model(args.config, weights=args.weights, checkpoint=args.checkpoint,
                              device=args.device, cfg_options=options or None)


def segment_many(args, paths) -> int:
    """Many images → one overlay (and optionally one label map) each in the ``--out`` folder, in
    batches, with a progress bar; an unreadable image is reported and skipped."""
    from tqdm import tqdm
    out_dir = args.out or 'out'
    try:
        if os.path.splitext(out_dir)[1].lower() in IMAGE_OUTPUT_SUFFIXES:
            raise ValueError(f'--out {out_dir!r} names a picture, but the input is '
                             f'{len(paths)} images: give a folder')
        ensure_writable(os.path.join(out_dir, '.probe.png'), '--out folder')
        classes = class_list(args)
        model = build_model(args)
        model.set_classes(classes)
    except (ValueError, OSError, RuntimeError, ImportError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    failed, written = [], 0
    stems = unique_stems(paths)
    with terminate_as_interrupt(), tqdm(total=len(paths), desc='segmenting', unit='img') as bar:
        for start in range(0, len(paths), args.batch_size):
            batch = []
            for path in paths[start:start + args.batch_size]:
                try:
                    batch.append((path, load_image(path)))
                except (ValueError, OSError) as err:
                    failed.append((path, str(err)))
                    bar.update(1)
            if not batch:
                continue
            try:
                results = clipseg.segment(model, [img for _, img in batch], batch_size=len(batch))
            except (ValueError, RuntimeError):    # one bad image must not sink the others
                results = []
                for path, image in batch:
                    try:
                        results.append(clipseg.segment(model, image))
                    except (ValueError, RuntimeError) as err:
                        failed.append((path, str(err)))
                        bar.update(1)
                        results.append(None)
            for (path, image), result in zip(batch, results):
                if result is None:
                    continue
                stem = os.path.join(out_dir, stems[path])
                try:
                    save_image(stem + '.png', overlay(image, result['label_map'], result['classes'],
                                                      result['pixel_share'], args.opacity))
                    if args.label_maps:
                        save_label_map(stem + '_labels.png', result['label_map'], len(result['classes']),
                                       result['classes'], sidecar=True)
                    written += 1
                except (ValueError, OSError) as err:
                    failed.append((path, str(err)))
                bar.update(1)
    for path, why in failed:
        print(f'skipped {path}: {why}', file=sys.stderr)
    print(f'wrote {written} of {len(paths)} images to {out_dir}' +
          (f'; {len(failed)} failed (listed above)' if failed else ''))
    return 0 if written else 2


def unique_stems(paths):
    """Output names: the file stem, with the parent folder prepended where stems collide."""
    stems = [os.path.splitext(os.path.basename(p))[0] for p in paths]
    return {p: (s if stems.count(s) == 1 else f'{os.path.basename(os.path.dirname(p))}_{s}')
            for p, s in zip(paths, stems)}


DEFAULT_MASKS_CONFIG = 'ovseg_vit-l14_openai_masks'


def add_label_masks_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('image', help='the image the masks belong to')
    parser.add_argument('--masks', required=True,
                        help='a folder of mask images (one per file, non-zero = inside), an .npz '
                             '("masks" (N, H, W) or an id map), an id-map .png or a COCO .json')
    names = parser.add_mutually_exclusive_group(required=True)
    names.add_argument('--classes', help='"bus,car,road,sky" (";" joins synonyms)')
    names.add_argument('--classes-file', help='a names file: one class per line')
    parser.add_argument('--config', default=DEFAULT_MASKS_CONFIG,
                        help=f'an OVSeg config (default {DEFAULT_MASKS_CONFIG})')
    parser.add_argument('--weights', help='CLIP weights: pretrained tag or local checkpoint file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint (mask prompts)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', default='masks_labelled.png', help='overlay picture to write')
    parser.add_argument('--label-map', help='also write the semantic map (palette PNG)')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--unsafe-load', action='store_true',
                        help='UNSAFE: load checkpoints with full pickle (can run code)')


def label_masks(args) -> int:
    """``clipseg label-masks``: name each given mask with one of the classes (OVSeg)."""
    args.max_pixels, args.precision, args.templates, args.random_heads = None, None, None, False
    args.index = None
    apply_limits(args)
    try:
        with terminate_as_interrupt():
            check_suffix(args.out, '--out')
            if args.label_map:
                check_suffix(args.label_map, '--label-map', ('.png',))
            for path, what in ((args.out, '--out'), (args.label_map, '--label-map')):
                if path:
                    ensure_writable(path, what)
            if not os.path.exists(args.masks):
                raise FileNotFoundError(f'--masks not found: {args.masks!r}')
            classes = class_list(args)
            image = load_image(args.image)
            from clipseg.apis.label_masks import read_masks
            masks, mask_names = read_masks(args.masks, image.shape[:2])
            model = build_model(args)
            found = clipseg.classify_masks(model, image, masks, classes=classes)
            names = found['classes'] + ['(no mask)']
            labels = np.where(found['label_map'] < 0, len(names) - 1, found['label_map'])
            share = np.bincount(labels.ravel(), minlength=len(names)) / labels.size
            save_image(args.out, overlay(image, labels, names, share, args.opacity))
            if args.label_map:
                save_label_map(args.label_map, labels, len(names), names, sidecar=True)
    except (ValueError, OSError, RuntimeError, ImportError, TypeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    for name, label, valid, scores in zip(mask_names, found['labels'], found['valid'], found['scores']):
        what = (f"{found['classes'][label]:>24s}  prob {scores[label]:.3f}" if valid
                else f"{'(empty mask)':>24s}")
        print(f'mask {name:>12s}: {what}')
    print(f'wrote {args.out}' + (f' and {args.label_map}' if args.label_map else ''))
    return 0


def segment_main(argv=None) -> int:
    """``demo/image_demo.py``: segment one image with free-text class names."""
    parser = argparse.ArgumentParser(description='Segment your own image with free-text class names')
    add_segment_args(parser)
    return segment(parser.parse_args(argv))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog='clipseg', description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True)
    add_segment_args(sub.add_parser('segment', help='segment an image with class names'))
    add_label_masks_args(sub.add_parser('label-masks', help='name given masks with class names (OVSeg)'))
    listing = sub.add_parser('list', help='list config names')
    listing.add_argument('pattern', nargs='?', default='*', help="shell pattern, e.g. 'naclip_*'")
    listing.add_argument('--models', action='store_true', help='only configs for any image')
    args = parser.parse_args(argv)
    if args.command == 'list':
        names = list_models(args.pattern) if args.models else list_configs(args.pattern)
        print('\n'.join(names))
        return 0 if names else 1
    if args.command == 'label-masks':
        return label_masks(args)
    return segment(args)


if __name__ == '__main__':
    sys.exit(main())
