"""Training-loop hooks for mmengine's Runner (exact resume of random state)."""
from .rng_state_hook import RNGStateHook

__all__ = ['RNGStateHook']
