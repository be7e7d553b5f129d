"""Parse class lists: ``'bus,car'``, ``['person; people', 'car']`` or a names file (one class per
line, synonyms separated by ``;``).

The rule that tells a names file from names (``NAMES_FILE_RULE``): a string is a names file only
when it ends in a names-file suffix or starts with ``/``, ``./``, ``../`` or ``~`` (then it must
exist), or holds a folder separator and is an existing file (``data/names``); anything else is
names (``bag/purse`` too), even if a file of that name exists. A byte-order mark is never part of
a name."""
import os
from typing import List, Sequence, Union

ClassList = Union[str, Sequence[str]]
NAMES_FILE_SUFFIXES = ('.txt', '.csv', '.tsv', '.names', '.lst', '.list')
NAMES_FILE_RULE = ('read as a names file only if it ends in ' + '/'.join(NAMES_FILE_SUFFIXES)
                   + ' or starts with /, ./, ../ or ~, or is an existing file in a folder '
                   "(data/names); a plain word is always a name")
BOM = '\ufeff'


def read_class_file(path: str) -> List[str]:
    with open(path, encoding='utf-8-sig') as f:   # a leading BOM is dropped
        return [line.rstrip('\r\n') for line in f if line.strip()]


def looks_like_path(text: str) -> bool:
    """A single entry that names a file (``classes.txt``, ``./names``, ``~/x``), not a class."""
    text = text.strip()
    return ',' not in text and (text.lower().endswith(NAMES_FILE_SUFFIXES)
                                or text.startswith(('/', './', '../', '~')))


def parse_classes(classes: ClassList, allow_shared_names: bool = False) -> List[List[str]]:
    """Return one list of synonyms per class, checking the list is usable.

    A string that looks like a path (``NAMES_FILE_RULE``) is a names file, and must exist (a
    missing one is an error, never a class named after the file); any other string is a
    comma-separated list, even if a file of that name exists. Every
    name and synonym must be unique across classes (case-insensitive), unless
    ``allow_shared_names`` (some authors' benchmark lists give a name to two classes).
    """
    if isinstance(classes, str):
        stripped = classes.strip()
        if (',' not in stripped and os.sep in stripped
                and os.path.isfile(os.path.expanduser(stripped))):
            classes = read_class_file(os.path.expanduser(stripped))
        elif looks_like_path(classes):
            path = os.path.expanduser(classes.strip())
            if not os.path.isfile(path):
                raise FileNotFoundError(f'class names file not found: {classes!r} (to use it as a '
                                        'class name, write it without a file suffix or path)')
            classes = read_class_file(path)
        else:
            classes = classes.split(',')
    parsed, owner = [], {}
    for index, entry in enumerate(classes):
        if not isinstance(entry, str):
            raise TypeError(f'class names must be strings, got {type(entry).__name__} at {index}')
        names = [n.replace(BOM, '').strip() for n in entry.split(';')]
        if not any(names):
            raise ValueError(f'class {index} is blank: every class needs a name')
        names = list(dict.fromkeys(n for n in names if n))
        for name in names:
            key = name.lower()
            if key in owner and owner[key] != index and not allow_shared_names:
                other = owner[key]
                if name.lower() == names[0].lower() and parsed[other][0].lower() == key:
                    raise ValueError(f'duplicate class name {name!r} (classes {other} and {index}): '
                                     'merge them into one class with ";"-separated synonyms')
                raise ValueError(f'name {name!r} is given to two classes, {parsed[other][0]!r} '
                                 f'(class {other}) and {names[0]!r} (class {index}): a name or '
                                 'synonym may belong to one class only')
            owner.setdefault(key, index)
        parsed.append(names)
    if not parsed:
        raise ValueError('class list is empty: pass at least one class name')
    return parsed


def background_first(parsed: List[List[str]], word: str = 'background') -> List[List[str]]:
    """Parsed classes with the one that names ``word`` (any synonym, any case) moved to the
    front, or a new ``[word]`` class put there: the convention of SCLIP's lists, where class 0
    takes the pixels no other class explains."""
    for i, names in enumerate(parsed):
        if word in (n.lower() for n in names):
            return [names] + parsed[:i] + parsed[i + 1:]
    return [[word]] + list(parsed)
