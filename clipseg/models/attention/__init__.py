from .base import SHORT_NAMES, LastBlockAttention, build_attention
from .clearclip import ClearCLIPAttention
from .maskclip import MaskCLIPAttention
from .naclip import NACLIPAttention
from .sclip import SCLIPAttention
from .vanilla import VanillaAttention

__all__ = ['LastBlockAttention', 'build_attention', 'SHORT_NAMES', 'VanillaAttention',
           'MaskCLIPAttention', 'SCLIPAttention', 'ClearCLIPAttention', 'NACLIPAttention']
