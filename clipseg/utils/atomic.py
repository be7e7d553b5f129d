"""Write files all or nothing: a temporary file in the target folder, then a rename.

The file gets the permissions the user's umask gives a new file (not mkstemp's 0600); the
temporary file is removed on any failure, Ctrl-C included, and on SIGTERM inside
``terminate_as_interrupt()``. A process killed outright (SIGKILL, power loss) cannot clean up:
its temporary files are named ``.clipseg-tmp-<pid>-*`` and the next write into that folder
removes those whose process is gone. ``ensure_writable`` checks an output path before the work
starts, ``check_suffix`` its extension.
"""
import contextlib
import os
import re
import signal
import tempfile
from typing import Sequence

TMP_PREFIX = '.clipseg-tmp-'
_TMP_NAME = re.compile(re.escape(TMP_PREFIX) + r'(\d+)-')
IMAGE_OUTPUT_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:   # someone else's live process
        return True
    return True


def clean_stale_temps(folder: str) -> int:
    """Remove our temporary files in ``folder`` left by processes that no longer run; → count."""
    removed = 0
    try:
        names = os.listdir(folder)
    except OSError:
        return 0
    for name in names:
        match = _TMP_NAME.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                os.remove(os.path.join(folder, name))
                removed += 1
    return removed


def temp_path(path: str) -> str:
    """A new, empty temporary file beside ``path`` (same suffix), named for stale-file cleanup."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    clean_stale_temps(folder)
    suffix = os.path.splitext(path)[1] or '.tmp'
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=suffix, prefix=f'{TMP_PREFIX}{os.getpid()}-')
    os.close(fd)
    os.chmod(tmp, _umask_mode())
    return tmp


def write_atomically(path: str, write_fn) -> None:
    """Call ``write_fn(tmp_path)`` then move the file into place; no partial file on failure."""
    tmp = temp_path(path)
    try:
        write_fn(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def check_suffix(path: str, what: str, suffixes: Sequence[str] = IMAGE_OUTPUT_SUFFIXES) -> None:
    """Refuse an output name whose extension we cannot write, before any work."""
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in suffixes:
        got = f'extension {suffix!r}' if suffix else 'no extension'
        raise ValueError(f'{what} {os.path.basename(path)!r} has {got}: use one of '
                         f'{", ".join(suffixes)}')


def ensure_writable(path: str, what: str = 'output') -> None:
    """Fail now, not after the work, if ``path`` cannot be written (folder created if missing)."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f'{what} {path!r} is a folder; give a file name')
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        os.remove(temp_path(path))
    except OSError as err:
        raise PermissionError(f'cannot write {what} {path!r}: {err.strerror or err}') from None


@contextlib.contextmanager
def terminate_as_interrupt():
    """Inside: SIGTERM raises ``SystemExit(143)``, so cleanup (temporary files) runs as on Ctrl-C."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
