"""Parse class lists: ``'bus,car'``, ``['person; people', 'car']`` or a names file (one class per
line, synonyms separated by ``;``)."""
import os
from typing import List, Sequence, Union

ClassList = Union[str, Sequence[str]]


def read_class_file(path: str) -> List[str]:
    with open(path, encoding='utf-8') as f:
        return [line.rstrip('\n') for line in f if line.strip()]


def parse_classes(classes: ClassList) -> List[List[str]]:
    """Return one list of synonyms per class, checking the list is usable.

    A string is a names file if it is an existing path, else a comma-separated list.
    """
    if isinstance(classes, str):
        classes = read_class_file(classes) if os.path.isfile(classes) else classes.split(',')
    parsed, seen = [], {}
    for index, entry in enumerate(classes):
        if not isinstance(entry, str):
            raise TypeError(f'class names must be strings, got {type(entry).__name__} at {index}')
        names = [n.strip() for n in entry.split(';')]
        if not any(names):
            raise ValueError(f'class {index} is blank: every class needs a name')
        names = [n for n in names if n]
        key = names[0].lower()
        if key in seen:
            raise ValueError(f'duplicate class name {names[0]!r} (classes {seen[key]} and {index}): '
                             'merge them into one class with ";"-separated synonyms')
        seen[key] = index
        parsed.append(names)
    if not parsed:
        raise ValueError('class list is empty: pass at least one class name')
    return parsed
