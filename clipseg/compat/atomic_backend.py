"""mmengine's local file backend, writing all or nothing: the Runner's checkpoints
(``iter_N.pth``, ``epoch_N.pth``, ``best_*.pth``) and its ``last_checkpoint`` note go to a
temporary file beside the target and are renamed into place, so a full disk or a killed process
never leaves a truncated checkpoint under its final name. Registered in place of mmengine's
``'local'`` backend by ``install()``; installed packages are not edited."""
from mmengine.fileio.backends import LocalBackend, register_backend

from ..utils.atomic import write_atomically


class AtomicLocalBackend(LocalBackend):
    """``LocalBackend`` whose ``put``/``put_text`` write through ``write_atomically``."""

    def put(self, obj: bytes, filepath) -> None:
        def write(tmp):
            with open(tmp, 'wb') as f:
                f.write(obj)
        write_atomically(str(filepath), write)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        def write(tmp):
            with open(tmp, 'w', encoding=encoding) as f:
                f.write(obj)
        write_atomically(str(filepath), write)


def install() -> None:
    """Make ``get_file_backend`` hand out the atomic backend for local paths."""
    from mmengine.fileio import io as mm_io
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    for key, backend in list(mm_io.backend_instances.items()):   # cached singletons
        if type(backend) is LocalBackend:
            mm_io.backend_instances[key] = AtomicLocalBackend()
