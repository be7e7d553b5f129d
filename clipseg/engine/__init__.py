"""Training-loop hooks for mmengine's Runner (exact resume of random state, validation on another
dataset's classes)."""
from .rng_state_hook import RNGStateHook
from .val_classes_hook import ValClassesHook

__all__ = ['RNGStateHook', 'ValClassesHook']
