"""Backbone adapters: an open_clip or timm image tower → dense features on its patch grid."""
from .clip_resnet import CLIPResNet
from .clip_vit import CLIPViT
from .timm_convnext import TimmConvNeXt, is_timm_convnext
from .timm_vit import TimmViT, timm_vit_kind

# options that only the native ViT adapter has (DenseCLIP, intermediate taps, position modes)
VIT_ONLY = ('tap', 'out_indices', 'multiscale', 'pos_resize', 'pos_grid', 'drop_path_rate',
            'cls_embed_twice', 'quick_gelu')


def adapter_class(visual):
    """The adapter for an open_clip image tower: native ViT, ModifiedResNet, timm ViT/EVA
    (SigLIP, SigLIP 2, PE, EVA02...) or timm ConvNeXt; other towers are refused by name."""
    if hasattr(visual, 'attnpool'):
        return CLIPResNet
    if hasattr(visual, 'transformer') and hasattr(visual, 'conv1'):
        return CLIPViT
    if timm_vit_kind(visual):
        return TimmViT
    if is_timm_convnext(visual):
        return TimmConvNeXt
    inner = type(getattr(visual, 'trunk', visual)).__name__
    raise TypeError(f'no dense adapter for the image tower {inner}: supported are open_clip\'s '
                    'native ViT, ModifiedResNet, and timm ViT / EVA / ConvNeXt towers')


def build_clip_adapter(visual, attention='maskclip', **kwargs):
    """Wrap an open_clip image tower in the matching adapter."""
    cls = adapter_class(visual)
    if kwargs.get('proxy') is not None and cls is not CLIPViT:
        raise TypeError(f'a proxy model guides open_clip ViT towers (CLIPViT) only, not '
                        f'{cls.__name__}: choose a ViT CLIP for ProxyCLIP / CorrCLIP')
    if cls is CLIPResNet:
        kwargs.pop('tap', None)
    if cls in (TimmViT, TimmConvNeXt):
        extra = sorted(k for k in kwargs if k in VIT_ONLY)
        if extra:
            raise TypeError(f'{cls.__name__} (timm tower) does not take {extra}: options of the '
                            'native open_clip ViT')
    return cls(visual=visual, attention=attention, **kwargs)


__all__ = ['CLIPViT', 'CLIPResNet', 'TimmViT', 'TimmConvNeXt', 'adapter_class',
           'build_clip_adapter']
