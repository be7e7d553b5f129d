"""Training-free attention variants for the last block (MaskCLIP, SCLIP, ClearCLIP, NACLIP, ...)."""
from .base import LastBlockAttention, build_attention, short_names
from .cass import CASSAttention
from .clearclip import ClearCLIPAttention
from .corrclip import CorrCLIPAttention
from .maskclip import MaskCLIPAttention
from .naclip import NACLIPAttention
from .proxyclip import ProxyCLIPAttention
from .sclip import SCLIPAttention
from .resclip import ResCLIPAttention
from .rfclip import RFCLIPAttention
from .scclip import SCCLIPAttention
from .vanilla import VanillaAttention

__all__ = ['LastBlockAttention', 'build_attention', 'short_names', 'VanillaAttention',
           'MaskCLIPAttention', 'SCLIPAttention', 'ClearCLIPAttention', 'NACLIPAttention',
           'SCCLIPAttention', 'RFCLIPAttention', 'ResCLIPAttention', 'ProxyCLIPAttention', 'CorrCLIPAttention', 'CASSAttention']
