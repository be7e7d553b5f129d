"""Export a zero-shot segmentor (MaskCLIP, SCLIP, ClearCLIP, NACLIP, CLIP-DINOiser) to ONNX and
check it with onnxruntime against PyTorch on real photos.

    python tools/export.py CONFIG --classes "cat,dog,grass" [--out model.onnx]
        [--weights TAG_OR_FILE] [--checkpoint HEADS.pth] [--embeddings-input] [--static]
        [--size 336 448] [--check IMAGE_OR_FOLDER ...]

The graph takes a normalised (1, 3, H, W) image (dynamic H, W unless --static) and returns the
label map and the class probabilities; with --embeddings-input the (K, D) class embeddings are a
second input (one per class), otherwise they are baked in. Whole-image inference: sliding windows,
PAMR and thresholds stay outside the graph.
"""
import argparse
import sys

import numpy as np
import torch
from mmengine.config import DictAction

import clipseg
from clipseg.apis.export import check_onnx, export_onnx
from clipseg.apis.inference import image_pipeline
from clipseg.apis.inputs import expand_inputs
from clipseg.utils import check_suffix, ensure_writable, load_image
from clipseg.utils.errors import run_cli


def normalised(model, path):
    """An image through the config's test pipeline and the model's data preprocessor."""
    from mmengine.dataset import pseudo_collate
    data = model.data_preprocessor(pseudo_collate([image_pipeline(model.cfg)(dict(img=load_image(path)))]))
    return data['inputs'][:1].numpy()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='Export a clipseg segmentor to ONNX: image in, '
                                     'class probabilities and labels out, with the class names, '
                                     'mean/std, input size and config in the file\'s metadata')
    parser.add_argument('config', help='config file or shipped name (clipseg list --models)')
    parser.add_argument('--classes', required=True,
                        help='"cat,dog" (";" joins synonyms) or a names file: baked into the model')
    parser.add_argument('--format', choices=['onnx'], default='onnx', help='output format')
    parser.add_argument('--out', default='clipseg.onnx', help='the .onnx file to write')
    parser.add_argument('--weights', help='CLIP weights: open_clip pretrained tag or local file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint (e.g. CLIP-DINOiser heads)')
    parser.add_argument('--embeddings-input', action='store_true',
                        help='take the class text embeddings as a second input instead of baking '
                             'them in (change classes without re-exporting)')
    parser.add_argument('--static', action='store_true',
                        help='fixed input size (--size); by default height and width are dynamic')
    parser.add_argument('--size', type=int, nargs=2, default=(336, 448), metavar=('H', 'W'),
                        help='example input size (and the fixed size with --static)')
    parser.add_argument('--check', nargs='*', default=[], help='images (or folders) to compare on')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries, e.g. model.backbone_cfg.pos_resize=exact')
    parser.add_argument('--random-heads', action='store_true', help='export untrained heads on purpose')
    args = parser.parse_args(argv)
    try:
        check_suffix(args.out, '--out', ('.onnx',))
        ensure_writable(args.out, '--out')
        options = dict(args.cfg_options or {})
        if args.random_heads:
            options['model.allow_random_heads'] = True
        model = clipseg.init_model(args.config, weights=args.weights, checkpoint=args.checkpoint,
                                   classes=args.classes, cfg_options=options or None)
        wrapper, fixed = export_onnx(model, args.out, tuple(args.size), args.embeddings_input,
                                     dynamic=not args.static)
    except (ValueError, OSError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    size = 'dynamic size' if fixed is None else f'fixed size {args.size[0]}x{args.size[1]} ({fixed})'
    print(f'wrote {args.out} ({len(wrapper.names)} classes, {size})')
    paths = [p for src in args.check for p in expand_inputs(src)]
    if paths:
        images = [normalised(model, p) for p in paths]
        if fixed is not None:
            images = [np.ascontiguousarray(torch.nn.functional.interpolate(
                torch.from_numpy(i), size=tuple(args.size), mode='bilinear').numpy()) for i in images]
        report = check_onnx(args.out, wrapper, images)
        for path, r in zip(paths, report['images']):
            print(f'{path}: {r["shape"][0]}x{r["shape"][1]}, label agreement with PyTorch '
                  f'{100 * r["agreement"]:.3f}%' + ('' if r['only_ties'] else ' (differs beyond ties)'))
        print('check: ' + ('passed' if report['ok'] else 'FAILED'))
        return 0 if report['ok'] else 1
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
