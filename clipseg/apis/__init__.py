from .inference import find_config, init_model, segment

__all__ = ['find_config', 'init_model', 'segment']
