"""Web demo: upload an image, type classes, see the segmentation (Gradio, runs offline).

    python demo/web_demo.py [--config CONFIG_OR_NAME] [--weights TAG_OR_PATH]
        [--checkpoint CKPT] [--device cpu] [--port 7860] [--host 127.0.0.1]
        [--examples FOLDER] [--random-heads] [--templates a_photo_of]

The model is built at start and kept; the page lets the user pick another config or weights.
"""
import argparse
import os
import sys

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')  # no calls home

from clipseg.apis.inference import DEFAULT_CONFIG  # noqa: E402
from clipseg.datasets.image_folder import list_images  # noqa: E402
from clipseg.apis.web_app import WebDemo, build_ui, offline_theme  # noqa: E402
from clipseg.models.text.templates import TEMPLATE_SETS  # noqa: E402

VOC_MINI = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'voc_mini',
                        'JPEGImages')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='config file or name')
    parser.add_argument('--weights', help='CLIP weights: pretrained tag or local checkpoint file')
    parser.add_argument('--checkpoint', help='trained clipseg checkpoint for --config')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--templates', choices=sorted(TEMPLATE_SETS), default=None)
    parser.add_argument('--random-heads', action='store_true',
                        help='run trained parts (DINOiser heads, DenseCLIP) untrained, on purpose')
    parser.add_argument('--examples', default=VOC_MINI,
                        help='folder of example images shown under the upload box')
    parser.add_argument('--host', default='127.0.0.1', help='0.0.0.0 to serve your network')
    parser.add_argument('--port', type=int, default=7860)
    args = parser.parse_args(argv)
    app = WebDemo(args.config, args.weights, args.checkpoint, args.device, args.random_heads,
                  args.templates)
    try:
        app.model()  # build (and load weights) now: errors show here, not at the first upload
    except (ValueError, OSError, RuntimeError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    examples = list_images(args.examples)[:8] if os.path.isdir(args.examples) else []
    build_ui(app, examples).launch(server_name=args.host, server_port=args.port,
                                   theme=offline_theme())
    return 0


if __name__ == '__main__':
    sys.exit(main())
