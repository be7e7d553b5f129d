"""Known third-party noise, filtered precisely (by source and message, never whole loggers).

- mmseg and mmdet print a DEBUG-level notice, "Could not import OneDL", at import time
  (onedl's optional data library); we drop exactly that call while importing their datasets.
- mmcv-lite warns that ``MultiScaleDeformableAttention`` has no compiled op; nothing of ours
  uses it.
- mmengine's Config logs "Using env variable `CLIPSEG_CACHE` ..." (twice) at INFO each time a
  config with our cache folder is read; ``our_env_quietly`` drops exactly those lines.
- open_clip says "No pretrained weights loaded ... initialized randomly" when we build the
  architecture and then load a local weights file ourselves (``weights_loaded_by_us``).
- mmengine warns "The prefix is not set in metric class IoUMetric." for every test run: mmseg's
  IoUMetric has no default prefix, and giving it one would rename the metrics everybody reads
  (``mIoU``); ``drop_metric_prefix_notice`` drops exactly that line for IoUMetric.
- mmseg's VisualizationHook warns "The draw is False ..." when nothing is drawn, which is the
  configs' default (``--show-dir`` turns drawing on).
"""
import contextlib
import logging
import warnings

ONEDL_NOTICE = 'Could not import OneDL'
OPEN_CLIP_RANDOM = 'No pretrained weights loaded for model'


def filter_warnings() -> None:
    warnings.filterwarnings('ignore', message='Fail to import ``MultiScaleDeformableAttention``',
                            category=UserWarning, module=r'mmcv\.cnn\.bricks\.transformer')
    # mmdet's optional FasterCocoMetric (not used: CocoMetric is) warns at import
    warnings.filterwarnings('ignore', message='faster_coco_eval is not installed',
                            category=UserWarning, module=r'mmdet\.evaluation')
    warnings.filterwarnings('ignore', message='The draw is False, it means that the hook for '
                            'visualization will not take effect', category=UserWarning,
                            module=r'mmseg\.engine\.hooks\.visualization_hook')


METRIC_PREFIX_NOTICE = 'The prefix is not set in metric class IoUMetric.'


def drop_metric_prefix_notice() -> None:
    """mmengine's BaseMetric: no warning line for IoUMetric's missing prefix; idempotent."""
    import mmengine.evaluator.metric as mm_metric
    if getattr(mm_metric.print_log, 'clipseg_quiet', None) != METRIC_PREFIX_NOTICE:
        mm_metric.print_log = _without(mm_metric.print_log, METRIC_PREFIX_NOTICE, logging.WARNING)


def _without(print_log, prefix: str, drop_level: int):
    """``print_log`` that drops exactly the messages starting with ``prefix`` at ``drop_level``."""
    def filtered(msg, logger=None, level=logging.INFO):
        if str(msg).startswith(prefix) and level == drop_level:
            return None
        return print_log(msg, logger=logger, level=level)
    filtered.clipseg_quiet = prefix
    return filtered


@contextlib.contextmanager
def _dropping(module, prefix: str, drop_level: int):
    """Inside: ``module.print_log`` drops exactly the messages starting with ``prefix`` logged
    at ``drop_level``."""
    original = module.print_log
    module.print_log = _without(original, prefix, drop_level)
    try:
        yield
    finally:
        module.print_log = original


def _no_onedl_notice():
    import mmengine.logging as mm_logging
    return _dropping(mm_logging, ONEDL_NOTICE, logging.DEBUG)


ENV_NOTICE = 'Using env variable `CLIPSEG_'


def our_env_quietly():
    """Read configs without mmengine's INFO line about our own ``CLIPSEG_*`` variables."""
    from mmengine.config import config as mm_config
    return _dropping(mm_config, ENV_NOTICE, logging.INFO)


def import_mmseg_quietly() -> None:
    """Import mmseg's dataset modules without their DEBUG notice on stdout."""
    with _no_onedl_notice():
        import mmseg.datasets  # noqa: F401
        import mmseg.datasets.transforms  # noqa: F401


def import_mmdet_quietly() -> None:
    """Import mmdet's dataset modules (when installed) without the same notice."""
    import importlib.util
    if importlib.util.find_spec('mmdet') is None:
        return
    with _no_onedl_notice():
        import mmdet.datasets  # noqa: F401


class _DropRecord(logging.Filter):
    def __init__(self, prefix: str):
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


@contextlib.contextmanager
def weights_loaded_by_us():
    """open_clip builds a random model that we fill from a local file: drop its 'random' notice."""
    drop = _DropRecord(OPEN_CLIP_RANDOM)
    logging.getLogger().addFilter(drop)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(drop)
