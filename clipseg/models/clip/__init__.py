"""CLIP from open_clip, resolved in one place: model name + weights (tag, local file, hf-hub or
none) → model and tokenizer, its preprocessing (mean/std from the tag's ``preprocess_cfg``), its
activation, and the weights' id for caches; ``weights_source`` alone decides file or tag."""
from .loader import (WeightsUnavailableError, _offline, create_clip, file_preprocess_cfg,
                     is_weights_file, known_tags, load_checkpoint_into, override_weights, pixel_mean_std,
                     text_tokenizer, weights_id, weights_source)

__all__ = ['create_clip', 'WeightsUnavailableError', 'file_preprocess_cfg', 'is_weights_file', 'known_tags',
           'load_checkpoint_into', 'override_weights', 'pixel_mean_std', 'text_tokenizer',
           'weights_id', 'weights_source', '_offline']
