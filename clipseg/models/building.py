"""Building a part from its config under mmseg's registry, whatever the default scope."""
from mmseg.registry import MODELS


def mmseg_scoped(cfg: dict) -> dict:
    """``cfg`` with an unscoped ``type`` name prefixed ``mmseg.`` (it then builds under any default
    scope, mmdet's too, as when a detector wraps a segmentor)."""
    if isinstance(cfg.get('type'), str) and '.' not in cfg['type']:
        cfg['type'] = 'mmseg.' + cfg['type']
    return cfg


def build_part(cfg, base: type, what: str):
    """``cfg`` (a dict or an already built ``base``; None stays None) → a ``base`` instance, or a
    TypeError naming ``what`` was built instead."""
    if cfg is None or isinstance(cfg, base):
        return cfg
    cfg = mmseg_scoped(dict(cfg))
    module = MODELS.build(cfg)
    if not isinstance(module, base):
        raise TypeError(f'{what} {cfg["type"]} built a {type(module).__name__}, not a {base.__name__}')
    return module
