"""Metrics registered into mmseg: mask proposal recall."""
from .mask_recall import MaskRecall

__all__ = ['MaskRecall']
