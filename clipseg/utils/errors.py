"""One line and exit status 2 for every refusal of a command-line tool, no traceback.

A refusal is an error about the user's input: a config, file or checkpoint that is missing,
unsafe or of the wrong model, weights that cannot be had offline, an image too large
(``ValueError``, ``OSError``, ``RuntimeError`` and their subclasses, ``SystemExit`` with a
message), or an optional part whose package is not installed (``MissingPackageError``).
``CLIPSEG_TRACEBACK=1`` re-raises them for debugging.
"""
import os
import sys
from typing import Callable, Optional

TRACEBACK_ENV = 'CLIPSEG_TRACEBACK'


class UsageError(ValueError):
    """A command-line refusal with its message."""


class MissingPackageError(ImportError):
    """An optional part needs a package that is not installed; the message names the extra."""


def one_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text if text.startswith('error:') else f'error: {text}'


def run_cli(main: Callable[..., Optional[int]], *args) -> int:
    """``main(*args)``; a refusal prints ``error: ...`` on stderr and returns 2."""
    try:
        return main(*args) or 0
    except SystemExit as err:
        if isinstance(err.code, str):
            print(one_line(err.code), file=sys.stderr)
            return 2
        return err.code or 0
    except (ValueError, OSError, RuntimeError, MissingPackageError) as err:
        if os.environ.get(TRACEBACK_ENV, '') not in ('', '0'):
            raise
        print(one_line(err), file=sys.stderr)
        return 2
