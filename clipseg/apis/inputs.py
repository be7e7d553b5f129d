"""What a user points the demo at: one image, a folder, a glob pattern or a list file of paths."""
import glob
import os
from typing import List

from ..utils.image_io import list_images

LIST_SUFFIXES = ('.txt', '.lst', '.list')


def expand_inputs(source: str) -> List[str]:
    """→ image paths, in a stable order. An existing path is always taken literally, before any
    pattern: a folder is searched recursively for image files, a ``.txt``/``.lst`` file lists one
    path per line (relative to the file), any other file is one image. Only a source that is not
    an existing path is a glob (``*``, ``?``, ``[``). Nothing found is an error naming the source."""
    if os.path.isdir(source):
        paths = list_images(source)
    elif os.path.isfile(source):
        if not source.lower().endswith(LIST_SUFFIXES):
            return [source]
        base = os.path.dirname(os.path.abspath(source))
        with open(source, encoding='utf-8-sig') as f:
            paths = [os.path.join(base, line.strip()) for line in f if line.strip()]
    elif any(c in source for c in '*?['):
        paths = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p))
    else:
        return [source]
    if not paths:
        raise FileNotFoundError(f'no images found in {source!r}')
    return paths
