"""Heads: what turns the adapter's dense features into class scores (zero-shot, CLIP-DINOiser,
DenseCLIP's pixel-text matching)."""
from .class_probabilities import class_probabilities
from .dinoiser_head import DINOiserHead, correlation_pool
from .pixel_text_head import DenseCLIPHead
from .rfclip_head import RFCLIPHead
from .zero_shot_head import ZeroShotHead

__all__ = ['ZeroShotHead', 'DINOiserHead', 'correlation_pool', 'DenseCLIPHead', 'RFCLIPHead',
           'class_probabilities']
