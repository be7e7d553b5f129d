"""Mask proposals for OVSeg: its own first stage (``OVSegProposals``: a MaskFormer whose queries
are classified by text) and a class-agnostic MaskFormer trained to find regions, not to name them
(needs mmdet, ``clipseg[det]``)."""
from .maskformer_proposals import (ClassAgnosticMask2FormerHead, ClassAgnosticMaskFormerHead,
                                   ProposalGenerator)
from .open_vocab_head import OpenVocabMaskFormerHead
from .ovseg_proposals import OVSegProposals
from .proposal_masks import ProposalMasks

__all__ = ['ClassAgnosticMask2FormerHead', 'ClassAgnosticMaskFormerHead', 'OpenVocabMaskFormerHead', 'OVSegProposals',
           'ProposalGenerator', 'ProposalMasks']
