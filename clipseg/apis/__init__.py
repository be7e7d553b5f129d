from .inference import find_config, init_model, list_configs, list_models, segment

__all__ = ['find_config', 'init_model', 'list_configs', 'list_models', 'segment']
