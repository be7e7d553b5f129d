"""Class-agnostic mask proposals (OVSeg's proposal generator): a MaskFormer trained to find
regions, not to name them (needs mmdet, ``clipseg[det]``)."""
from .maskformer_proposals import ClassAgnosticMaskFormerHead, ProposalGenerator
from .proposal_masks import ProposalMasks

__all__ = ['ClassAgnosticMaskFormerHead', 'ProposalGenerator', 'ProposalMasks']
