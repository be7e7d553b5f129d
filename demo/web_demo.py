"""Web demo: upload an image, type classes, see the segmentation (Gradio, runs offline).

    python demo/web_demo.py [--config CONFIG_OR_NAME] [--weights TAG_OR_PATH]
        [--configs FILE ...] [--weights-dir DIR] [--checkpoint CKPT] [--device cpu]
        [--port 7860] [--host 127.0.0.1] [--auth-file FILE] [--max-pixels N]
        [--examples FOLDER] [--random-heads] [--templates a_photo_of] [--keep-outputs 60]

The model is built at start and kept. The page offers the shipped configs plus the operator's
(--config, --configs) by name, and weights by pretrained tag or by file name from --weights and
--weights-dir; a visitor can name nothing else on the server.
"""
import argparse
import os
import sys

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # no calls home

from clipseg.apis.configs import DEFAULT_CONFIG  # noqa: E402
from clipseg.apis.web_app import LOCAL_HOSTS, PAGE_CSS, WebDemo, build_ui, offline_theme  # noqa: E402
from clipseg.utils.image_io import list_images  # noqa: E402
from clipseg.models.text.templates import TEMPLATE_SETS  # noqa: E402
from clipseg.utils.image_io import MAX_PIXELS, set_max_pixels  # noqa: E402

VOC_MINI = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'voc_mini',
                        'JPEGImages')
MAX_UPLOAD = '64mb'


def read_auth(path: str):
    """``user:password`` lines → Gradio's list of (user, password) pairs."""
    pairs = []
    with open(path, encoding='utf-8-sig') as f:
        for line in f:
            if line.strip():
                user, sep, password = line.strip().partition(':')
                if not (sep and user and password):
                    raise ValueError(f'--auth-file {path!r}: each line must be user:password')
                pairs.append((user, password))
    if not pairs:
        raise ValueError(f'--auth-file {path!r} holds no user:password line')
    return pairs


def guard_uploads(limit: int) -> None:
    """Gradio decodes uploads with PIL: make PIL refuse anything above ``limit`` pixels."""
    import warnings
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = limit or None
    if limit:
        warnings.simplefilter('error', Image.DecompressionBombWarning)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='default config file or name')
    parser.add_argument('--configs', nargs='*', default=[],
                        help='more config files the page may offer (by name)')
    parser.add_argument('--weights', help='default CLIP weights: pretrained tag or local file')
    parser.add_argument('--weights-dir',
                        help='folder of CLIP weight files the page may offer (by file name)')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint for --config')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--templates', choices=sorted(TEMPLATE_SETS), default=None)
    parser.add_argument('--random-heads', action='store_true',
                        help='run trained parts (DINOiser heads, DenseCLIP) untrained, on purpose')
    parser.add_argument('--examples', default=VOC_MINI,
                        help='folder of example images shown under the upload box')
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS,
                        help=f'refuse uploads with more pixels (default {MAX_PIXELS:,}; 0: none)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='0.0.0.0 serves your network: use --auth-file there')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--auth-file', help='user:password lines; the page asks for a login')
    parser.add_argument('--keep-outputs', type=float, default=60.0,
                        help='seconds a label-map file stays on the server at most (default 60)')
    args = parser.parse_args(argv)
    try:
        auth = read_auth(args.auth_file) if args.auth_file else None
        set_max_pixels(args.max_pixels)
        guard_uploads(args.max_pixels)
        app = WebDemo(args.config, args.weights, args.checkpoint, args.device, args.random_heads,
                      args.templates, configs=args.configs, weights_dir=args.weights_dir,
                      keep_outputs=args.keep_outputs)
        app.model()  # build (and load weights) now: errors show here, not at the first upload
    except (ValueError, OSError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    if args.host not in LOCAL_HOSTS:
        print(f'WARNING: serving on {args.host}:{args.port}, reachable beyond this machine'
              + ('' if auth else ', with no login (--auth-file)') + '. Anyone who reaches it can '
              'use this machine\'s CPU/GPU.', file=sys.stderr)
    examples = list_images(args.examples)[:8] if os.path.isdir(args.examples) else []
    if not examples:
        print(f'no example images in {args.examples!r} (the default is ../shared/data/voc_mini, '
              'absent from a clone): the page offers uploads only; --examples FOLDER adds some',
              file=sys.stderr)
    # Gradio's own start-up lines (including its "set share=True" hint: this demo never makes a
    # public link) are left out; this one says where the page is
    print(f'serving the page on http://{args.host}:{args.port}/ (Ctrl+C stops)', flush=True)
    build_ui(app, examples).launch(server_name=args.host, server_port=args.port,
                                   theme=offline_theme(), css=PAGE_CSS, auth=auth,
                                   max_file_size=MAX_UPLOAD,
                                   quiet=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
