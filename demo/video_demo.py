"""Segment a video frame by frame with free-text class names; writes an overlay video.

    python demo/video_demo.py VIDEO --classes "person,car,road" --out out.mp4
        [--config CONFIG_OR_NAME] [--weights TAG_OR_PATH] [--checkpoint CKPT] [--batch-size 8]
        [--opacity 0.5] [--device cpu] [--no-legend]

Frames are read with OpenCV and segmented in batches; the output keeps the frame size, frame
count and frame rate. Colours are one per class, as in the image demo; a legend (colour → class)
is drawn in the top-left corner of every frame unless ``--no-legend``, and printed.
"""
import argparse
import os
import sys

import cv2

import clipseg
from clipseg.apis.configs import DEFAULT_CONFIG
from clipseg.apis.visualize import draw_legend, legend_panel, make_palette
from clipseg.cli import apply_limits, class_list
from clipseg.models.text.class_names import NAMES_FILE_RULE
from clipseg.utils import check_suffix, ensure_writable, terminate_as_interrupt
from clipseg.utils.atomic import temp_path
from clipseg.utils.image_io import check_pixels


def blend(frame, labels, palette, opacity):
    return cv2.addWeighted(frame, 1 - opacity, palette[labels], opacity, 0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('video')
    names = parser.add_mutually_exclusive_group(required=True)
    names.add_argument('--classes', help='"person,car,road" (";" joins synonyms); '
                                         + NAMES_FILE_RULE)
    names.add_argument('--classes-file', help='a names file: one class per line')
    parser.add_argument('--out', default='out.mp4', help='overlay video to write (.mp4 or .avi)')
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument('--weights', help='CLIP weights: pretrained tag or local checkpoint file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint (e.g. DINOiser heads)')
    parser.add_argument('--batch-size', type=int, default=8, help='frames per forward')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-legend', action='store_true',
                        help='do not draw the colour → class legend into the frames')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='UNSAFE: load checkpoints with full pickle (can run code); only for '
                             'files you trust')
    parser.add_argument('--max-pixels', type=int, default=None,
                        help='refuse frames with more pixels (default 89,478,485; 0: no limit)')
    args = parser.parse_args(argv)
    apply_limits(args)

    capture = cv2.VideoCapture(args.video)
    if not os.path.isfile(args.video) or not capture.isOpened():
        print(f'error: cannot open video {args.video!r}', file=sys.stderr)
        return 2
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    try:
        check_pixels(size[0], size[1], f'video {args.video!r} frames')
        check_suffix(args.out, '--out', ('.mp4', '.avi'))
        ensure_writable(args.out, '--out')
        classes = class_list(args)
        model = clipseg.init_model(args.config, weights=args.weights, checkpoint=args.checkpoint,
                                   device=args.device, classes=classes)
    except (ValueError, OSError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    names = model.dataset_meta['classes']
    palette = make_palette(len(names))
    panel = None if args.no_legend else legend_panel(names, palette, size[1])
    print('legend (BGR colour → class): ' + ', '.join(
        f'{tuple(int(c) for c in palette[k])} {n}' for k, n in enumerate(names)))
    fourcc = cv2.VideoWriter_fourcc(*('mp4v' if args.out.lower().endswith('.mp4') else 'MJPG'))
    tmp = temp_path(args.out)   # removed on failure; after a SIGKILL, by the next run
    writer = cv2.VideoWriter(tmp, fourcc, fps, size)
    from tqdm import tqdm
    frames_done = 0
    try:
        with terminate_as_interrupt(), tqdm(total=total, desc='segmenting', unit='frame') as bar:
            while True:
                frames = []
                while len(frames) < args.batch_size:
                    ok, frame = capture.read()
                    if not ok:
                        break
                    frames.append(frame)
                if not frames:
                    break
                for frame, result in zip(frames, clipseg.segment(model, frames, batch_size=len(frames))):
                    out = blend(frame, result['label_map'], palette, args.opacity)
                    writer.write(out if panel is None else draw_legend(out, panel))
                frames_done += len(frames)
                bar.update(len(frames))
        writer.release()
        os.replace(tmp, args.out)
    except BaseException:
        writer.release()
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        capture.release()
    print(f'wrote {args.out}: {frames_done} frames, {size[0]}x{size[1]} at {fps:g} fps')
    return 0


if __name__ == '__main__':
    sys.exit(main())
