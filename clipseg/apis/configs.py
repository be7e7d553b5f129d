"""The shipped configs: where they live, their names, finding one by name or path."""
import copy
import os
from pathlib import Path
from typing import List, Union

from mmengine.config import Config

from ..compat import quiet

SOURCE_CONFIGS = Path(__file__).resolve().parents[2] / 'configs'    # a source checkout
PACKAGED_CONFIGS = Path(__file__).resolve().parents[1] / '.mim' / 'configs'  # pip install
CONFIG_ROOT = SOURCE_CONFIGS if SOURCE_CONFIGS.is_dir() else PACKAGED_CONFIGS
DEFAULT_CONFIG = 'maskclip_vit-b16_openai_slide336'
DEFAULT_DET_CONFIG = 'instances_sclip_vit-b16_openai_slide336_coco'
BENCHMARKS = ('voc21', 'voc20', 'context60', 'context59', 'coco_object', 'coco_stuff171',
              'cityscapes', 'ade20k150', 'cityscapes27', 'coco_stuff27', 'kitti_step',  # ReCo's
              'ade20k847', 'context459')                                                # OVSeg's


def _config_files():
    if not CONFIG_ROOT.is_dir():
        return []
    return sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)


def list_configs(pattern: str = '*') -> List[str]:
    """Names of the shipped configs matching a shell-style ``pattern`` (``'naclip_*_voc21'``)."""
    import fnmatch
    return sorted(p.stem for p in _config_files() if fnmatch.fnmatch(p.stem, pattern))


def list_models(pattern: str = '*') -> List[str]:
    """The configs that segment any image with your class names (no benchmark, no training, no
    trained checkpoint needed: DenseCLIP's COCO detectors are left out; OVSeg's ``*_masks``
    names given masks, ``clipseg label-masks``): the names to pass to ``init_model`` and the demo."""
    return [n for n in list_configs(pattern)
            if not n.endswith(BENCHMARKS + ('_synthetic', '_coco', '_masks')) and 'train' not in n
            and not n.startswith(('found_', 'instances_'))]


def find_config(config_or_name: Union[str, os.PathLike, Config]) -> Config:
    """A Config, a config file path, or a shipped config name (``'sclip_vit-b16_...'``)."""
    if isinstance(config_or_name, Config):
        return copy.deepcopy(config_or_name)
    with quiet.our_env_quietly():
        return _find_config(config_or_name)


def _find_config(config_or_name) -> Config:
    path = Path(config_or_name)
    if path.suffix == '.py' and path.is_file():
        return Config.fromfile(str(path))
    name = path.stem if path.suffix == '.py' else str(config_or_name)
    matches = [p for p in _config_files() if p.stem == name]
    if not matches:
        import difflib
        close = difflib.get_close_matches(name, list_configs(), n=3)
        hint = f'; did you mean {close}?' if close else ' (clipseg.list_configs() lists them)'
        raise FileNotFoundError(f'no config file or config name {str(config_or_name)!r} '
                                f'(looked for a file and under {CONFIG_ROOT}){hint}')
    return Config.fromfile(str(matches[0]))


def is_detection_config(cfg: Config) -> bool:
    """A config of the mmdet world (``default_scope='mmdet'``): instances, not a label map."""
    return cfg.get('default_scope') == 'mmdet'
