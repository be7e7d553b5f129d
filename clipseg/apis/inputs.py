"""What a user points the demo at: one image, a folder, a glob pattern or a list file of paths."""
import glob
import os
from typing import List

from ..datasets.image_folder import list_images

LIST_SUFFIXES = ('.txt', '.lst', '.list')


def expand_inputs(source: str) -> List[str]:
    """→ image paths, in a stable order. A folder is searched recursively for image files, a glob
    (``*``, ``?``, ``[``) is expanded, a ``.txt``/``.lst`` file lists one path per line (relative
    to the file); anything else is one image. Nothing found is an error naming the source."""
    if os.path.isdir(source):
        paths = list_images(source)
    elif any(c in source for c in '*?['):
        paths = sorted(p for p in glob.glob(source, recursive=True) if os.path.isfile(p))
    elif source.lower().endswith(LIST_SUFFIXES) and os.path.isfile(source):
        base = os.path.dirname(os.path.abspath(source))
        with open(source, encoding='utf-8') as f:
            paths = [os.path.join(base, line.strip()) for line in f if line.strip()]
    else:
        return [source]
    if not paths:
        raise FileNotFoundError(f'no images found in {source!r}')
    return paths
