import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from clipseg.apis.visualize import save_image
from clipseg.utils import ensure_writable, write_atomically


def test_files_get_the_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        save_image(str(tmp_path / 'a.png'), np.zeros((4, 4, 3), np.uint8))
    finally:
        os.umask(old)
    assert (tmp_path / 'a.png').stat().st_mode & 0o777 == 0o640
    save_image(str(tmp_path / 'b.png'), np.zeros((4, 4, 3), np.uint8))
    assert (tmp_path / 'b.png').stat().st_mode & 0o777 == 0o666 & ~old


def test_failed_write_leaves_no_file(tmp_path):
    def half_then_fail(tmp):
        open(tmp, 'wb').write(b'partial')
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        write_atomically(str(tmp_path / 'x.png'), half_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_a_write_leaves_no_temp_file(tmp_path):
    script = (
        'import time, sys\n'
        'from clipseg.utils.atomic import terminate_as_interrupt, write_atomically\n'
        'def slow(tmp):\n'
        '    open(tmp, "wb").write(b"x" * 1000)\n'
        '    print("writing", flush=True)\n'
        '    time.sleep(60)\n'
        'with terminate_as_interrupt():\n'
        f'    write_atomically({str(tmp_path / "out.png")!r}, slow)\n')
    proc = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'writing'
    assert any(p.name.startswith('.tmp-') for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_unwritable_outputs_are_found_before_the_work(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(PermissionError, match='cannot write --out'):
        ensure_writable(str(blocker / 'out.png'), '--out')
    with pytest.raises(IsADirectoryError, match='is a folder'):
        ensure_writable(str(tmp_path), '--out')
    ensure_writable(str(tmp_path / 'new' / 'out.png'))
    assert list((tmp_path / 'new').iterdir()) == []
