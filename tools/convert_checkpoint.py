"""Convert an authors' released checkpoint into clipseg's key layout.

    python tools/convert_checkpoint.py SRC DST --from {dinoiser,found,...} [--config CONFIG]
        [--unsafe-load]

Reads SRC safely (``weights_only``; ``--unsafe-load`` for a trusted file that needs full pickle),
renames its keys, checks every key and shape against the clipseg model of ``--config`` (default:
the format's paired config), prints what it placed and what it could not, and writes DST only when
everything fits. Use DST with ``--checkpoint`` (tools/test.py, the demo) or
``clipseg.init_model(config, checkpoint=DST)``. The same as a function:
``clipseg.apis.convert.convert_checkpoint``.
"""
import argparse
import sys

import clipseg  # noqa: F401  (registers clipseg into mmseg/mmdet)
from clipseg.apis.convert import FORMATS, convert_checkpoint
from clipseg.utils.errors import run_cli


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog='formats:\n' + '\n'.join(
                                         f'  {k}: {v.description} → {v.config}'
                                         for k, v in FORMATS.items()))
    parser.add_argument('src')
    parser.add_argument('dst')
    parser.add_argument('--from', dest='fmt', required=True, choices=sorted(FORMATS))
    parser.add_argument('--config', help='clipseg config to check against (default: the format\'s)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='allow full pickle (runs code from the file): trusted files only')
    args = parser.parse_args(argv)
    report = convert_checkpoint(args.src, args.dst, args.fmt, args.config, args.unsafe_load)
    print(report.text())
    print(f'wrote {args.dst}; use it with --checkpoint {args.dst} '
          f'(config {args.config or FORMATS[args.fmt].config})')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
