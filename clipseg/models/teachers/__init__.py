from .dino_teacher import DINOOutput, DINOTeacher
from .found_teacher import FOUNDBackground

__all__ = ['DINOTeacher', 'DINOOutput', 'FOUNDBackground']
