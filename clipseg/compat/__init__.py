"""Plumbing between clipseg and the installed stack, applied once by ``install()``: the stand-in
for mmcv's compiled ops, the mmcv-lite shim, safe checkpoint loading (one allow-list of Runner
types), atomic checkpoint writes, LVIS evaluation under numpy 2 and the filters of known third-party noise. Installed packages
are never edited."""
from . import quiet


def install() -> None:
    """Apply every piece, in the order imports need; idempotent."""
    quiet.filter_warnings()
    try:
        import mmseg  # noqa: F401
    except ImportError as err:  # pragma: no cover
        raise ImportError('clipseg needs an OpenMMLab stack: reinstall clipseg (it brings the '
                          'onedl set: onedl-mmengine, onedl-mmcv, onedl-mmsegmentation) or install '
                          'the upstream set (docs/install.md)') from err
    from . import atomic_backend, lvis_numpy, mmcv_lite, mmcv_ops, safe_loading
    mmcv_ops.install()        # before anything imports mmcv.ops (mmdet does)
    mmcv_lite.apply()
    quiet.import_mmseg_quietly()
    quiet.drop_metric_prefix_notice()
    safe_loading.install()
    atomic_backend.install()  # Runner checkpoints written atomically
    lvis_numpy.install()      # LVIS evaluation (optional lvis package) under numpy 2
