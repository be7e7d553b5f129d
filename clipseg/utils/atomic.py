"""Write files all or nothing: a temporary file in the target folder, then a rename.

The file gets the permissions the user's umask gives a new file (not mkstemp's 0600); the
temporary file is removed on any failure, Ctrl-C included, and on SIGTERM inside
``terminate_as_interrupt()``. ``ensure_writable`` checks an output path before the work starts.
"""
import contextlib
import os
import signal
import tempfile


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(path: str, write_fn) -> None:
    """Call ``write_fn(tmp_path)`` then move the file into place; no partial file on failure."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    suffix = os.path.splitext(path)[1] or '.tmp'
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=suffix, prefix='.tmp-')
    os.close(fd)
    try:
        os.chmod(tmp, _umask_mode())
        write_fn(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def ensure_writable(path: str, what: str = 'output') -> None:
    """Fail now, not after the work, if ``path`` cannot be written (folder created if missing)."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f'{what} {path!r} is a folder; give a file name')
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix='.tmp-probe-')
        os.close(fd)
        os.remove(probe)
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
