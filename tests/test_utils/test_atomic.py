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


def _writer_caught_mid_write(tmp_path, guard: bool):
    """A process in the middle of ``write_atomically`` (its temporary file half written), run
    inside ``terminate_as_interrupt`` when ``guard``."""
    script = (
        'import contextlib, time\n'
        'from clipseg.utils.atomic import terminate_as_interrupt, write_atomically\n'
        'def slow(tmp):\n'
        '    open(tmp, "wb").write(b"x" * 1000)\n'
        '    print("writing", flush=True)\n'
        '    time.sleep(60)\n'
        f'with {"terminate_as_interrupt()" if guard else "contextlib.nullcontext()"}:\n'
        f'    write_atomically({str(tmp_path / "out.png")!r}, slow)\n')
    proc = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'writing'
    return proc


def test_sigterm_during_a_write_leaves_no_temp_file(tmp_path):
    proc = _writer_caught_mid_write(tmp_path, guard=True)
    assert any(p.name.startswith('.clipseg-tmp-') for p in tmp_path.iterdir())
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


def _dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_temp_files_of_killed_runs_are_cleaned_at_the_next_write(tmp_path):
    stale = tmp_path / f'.clipseg-tmp-{_dead_pid()}-abc.png'       # left by a SIGKILL
    live = tmp_path / f'.clipseg-tmp-{os.getpid()}-def.png'       # a write in progress here
    other = tmp_path / '.tmp-someone-elses.png'                   # not our naming: left alone
    for p in (stale, live, other):
        p.write_bytes(b'x')
    save_image(str(tmp_path / 'out.png'), np.zeros((4, 4, 3), np.uint8))
    assert not stale.exists() and live.exists() and other.exists()
    assert (tmp_path / 'out.png').exists()


def test_sigkill_during_a_write_leaves_a_temp_file_the_next_run_removes(tmp_path):
    proc = _writer_caught_mid_write(tmp_path, guard=False)
    proc.kill()
    proc.wait(timeout=30)
    assert [p.name.startswith('.clipseg-tmp-') for p in tmp_path.iterdir()] == [True]
    save_image(str(tmp_path / 'next.png'), np.zeros((4, 4, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['next.png']


def test_output_extensions_are_checked():
    from clipseg.utils import check_suffix
    check_suffix('a/b.PNG', '--out')
    for bad, why in (('result', 'no extension'), ('result.xyz', "extension '.xyz'")):
        with pytest.raises(ValueError, match=f"--out '{bad}' has {why}"):
            check_suffix(bad, '--out')
    with pytest.raises(ValueError, match='use one of .png'):
        check_suffix('labels.jpg', '--label-map', ('.png',))


def test_runner_checkpoint_on_a_full_disk_is_never_torn(tmp_path):
    """mmengine's save_checkpoint (what CheckpointHook calls) hitting the file-size limit, the
    way a full disk stops a write: the old checkpoint stays whole, no partial file appears."""
    script = (
        'import resource, signal, torch\n'
        'import clipseg\n'
        'from mmengine.runner.checkpoint import save_checkpoint\n'
        f'save_checkpoint({{"w": torch.ones(8)}}, {str(tmp_path / "iter_40.pth")!r})\n'
        'signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n'
        'resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))\n'
        'try:\n'
        f'    save_checkpoint({{"w": torch.zeros(100000)}}, {str(tmp_path / "iter_40.pth")!r})\n'
        'except OSError as err:\n'
        '    print("failed:", err.errno)\n')
    out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, timeout=300)
    assert 'failed: 27' in out.stdout, out.stdout + out.stderr              # EFBIG
    import torch
    assert torch.load(tmp_path / 'iter_40.pth')['w'].tolist() == [1.0] * 8  # old one intact
    assert [p.name for p in tmp_path.iterdir()] == ['iter_40.pth']
