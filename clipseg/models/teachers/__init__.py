"""Frozen teachers for training CLIP-DINOiser's head: DINO correlations, FOUND background."""
from .dino_teacher import DINOOutput, DINOTeacher
from .found_teacher import FOUNDBackground

__all__ = ['DINOTeacher', 'DINOOutput', 'FOUNDBackground']
