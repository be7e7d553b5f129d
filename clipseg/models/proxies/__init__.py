"""Vision foundation models that guide CLIP at inference (ProxyCLIP, CorrCLIP): a second image
model whose patch features give the affinities CLIP's last block pools with."""
from .base import FoundationProxy, build_proxy
from .sam_proxy import SAMProxy
from .timm_proxy import TimmProxy

__all__ = ['FoundationProxy', 'build_proxy', 'TimmProxy', 'SAMProxy']
