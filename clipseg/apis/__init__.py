"""The Python API: build a model by config name, segment or detect free-text classes, export."""
from .detect import detect
from .inference import find_config, init_model, list_configs, list_models, segment
from .inferencer import det_inferencer, mmseg_inferencer, use_classes

__all__ = ['find_config', 'init_model', 'list_configs', 'list_models', 'segment', 'detect',
           'mmseg_inferencer', 'det_inferencer', 'use_classes']
