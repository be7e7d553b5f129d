"""Segment your own image with free-text class names.

    python demo/image_demo.py IMAGE --classes "bus,car,road,sky" --out out.png
        [--config CONFIG_OR_NAME] [--weights TAG_OR_PATH] [--checkpoint CKPT]
        [--device cpu] [--precision fp32] [--label-map labels.png] [--opacity 0.5]
        [--templates openai_imagenet|a_photo_of|name_only] [--random-heads] [--unsafe-load]

Classes are comma-separated; synonyms of one class are joined with ";" ("person;people,car").
The same as ``clipseg segment`` (clipseg/cli.py).
"""
import sys

from clipseg.cli import segment_main

if __name__ == '__main__':
    sys.exit(segment_main())
