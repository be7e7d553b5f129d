from .clip_resnet import CLIPResNet
from .clip_vit import CLIPViT


def build_clip_adapter(visual, attention='maskclip', **kwargs):
    """Wrap an open_clip image tower (ViT or ModifiedResNet) in the matching adapter."""
    cls = CLIPResNet if hasattr(visual, 'attnpool') else CLIPViT
    if cls is CLIPResNet:
        kwargs.pop('tap', None)
    return cls(visual=visual, attention=attention, **kwargs)


__all__ = ['CLIPViT', 'CLIPResNet', 'build_clip_adapter']
