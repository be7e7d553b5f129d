"""The text side: class names, prompt templates, class embeddings and their caches.

Names and templates are plain Python; the classifier (torch, open_clip) loads on first use.
"""
from .class_names import background_first, parse_classes, read_class_file
from .templates import OPENAI_IMAGENET, get_templates

__all__ = ['parse_classes', 'background_first', 'read_class_file', 'OPENAI_IMAGENET', 'get_templates',
           'ClassEmbeddings', 'TextClassifier']


def __getattr__(name):
    if name in ('ClassEmbeddings', 'TextClassifier'):
        from . import text_classifier
        return getattr(text_classifier, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
