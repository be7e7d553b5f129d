"""The text side: class names, prompt templates, class embeddings and their caches."""
from .class_names import background_first, parse_classes, read_class_file
from .templates import OPENAI_IMAGENET, get_templates
from .text_classifier import ClassEmbeddings, TextClassifier

__all__ = ['parse_classes', 'background_first', 'read_class_file', 'OPENAI_IMAGENET', 'get_templates',
           'ClassEmbeddings', 'TextClassifier']
