"""detectron2's MaskFormer key layout (Swin or DeepLab-stem ResNet backbone, BasePixelDecoder, DETR
decoder) → mmseg's SwinTransformer / ResNetV1c and mmdet's PixelDecoder / DetrTransformerDecoder, as
OVSeg releases it (ov-seg ``modeling/backbone/swin.py``, ``heads/pixel_decoder.py``,
``transformer/transformer.py``, ``transformer_predictor.py``; detectron2
``projects/DeepLab/deeplab/resnet.py``, ``modeling/backbone/resnet.py``)."""
import torch

_LAST_LEVEL = 4      # res2..res5: detectron2's layer_4 is the top level's conv (mmdet last_feat_conv)


def _pixel_decoder_layer(m) -> str:
    level = int(m.group(1))
    return 'last_feat_conv.' if level == _LAST_LEVEL else f'output_convs.{level - 1}.'


def swin_rules(backbone: str, source: str = r'backbone\.') -> list:
    """(regex, replacement) rules: the official Swin layout (microsoft/Swin-Transformer) under
    ``source`` (a regex: ``backbone.`` in OVSeg, nothing in an ImageNet checkpoint) → mmseg's
    SwinTransformer under ``backbone`` (a prefix ending in '.')."""
    return [
        ('^' + source + r'patch_embed\.proj\.', backbone + 'patch_embed.projection.'),
        ('^' + source + r'patch_embed\.norm\.', backbone + 'patch_embed.norm.'),
        ('^' + source + r'layers\.(\d+)\.blocks\.(\d+)\.attn\.',
         lambda m: f'{backbone}stages.{m.group(1)}.blocks.{m.group(2)}.attn.w_msa.'),
        ('^' + source + r'layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc1\.',
         lambda m: f'{backbone}stages.{m.group(1)}.blocks.{m.group(2)}.ffn.layers.0.0.'),
        ('^' + source + r'layers\.(\d+)\.blocks\.(\d+)\.mlp\.fc2\.',
         lambda m: f'{backbone}stages.{m.group(1)}.blocks.{m.group(2)}.ffn.layers.1.'),
        ('^' + source + r'layers\.(\d+)\.', lambda m: f'{backbone}stages.{m.group(1)}.'),
        ('^' + source + r'norm(\d)\.', lambda m: f'{backbone}norm{m.group(1)}.'),
    ]


def deeplab_resnet_rules(backbone: str) -> list:
    """detectron2's DeepLab-stem ResNet (``stem.conv1-3``, ``res2-5``, each conv with its
    ``.norm``; the 'c' variant: three 3×3 stem convs) → mmseg's ResNetV1c (``stem`` Sequential of
    conv/BN/ReLU triples, ``layer1-4``, ``bn1-3``, ``downsample.0/1``)."""
    res = r'^backbone\.res(\d)\.(\d+)\.'

    def layer(m) -> str:
        return f'{backbone}layer{int(m.group(1)) - 1}.{m.group(2)}.'
    return [
        (r'^backbone\.stem\.conv(\d)\.norm\.', lambda m: f'{backbone}stem.{3 * int(m.group(1)) - 2}.'),
        (r'^backbone\.stem\.conv(\d)\.', lambda m: f'{backbone}stem.{3 * int(m.group(1)) - 3}.'),
        (res + r'conv(\d)\.norm\.', lambda m: f'{layer(m)}bn{m.group(3)}.'),
        (res + r'conv(\d)\.', lambda m: f'{layer(m)}conv{m.group(3)}.'),
        (res + r'shortcut\.norm\.', lambda m: f'{layer(m)}downsample.1.'),
        (res + r'shortcut\.', lambda m: f'{layer(m)}downsample.0.'),
    ]


def maskformer_head_rules(head: str) -> list:
    """(regex, replacement) rules for ``sem_seg_head.*`` keys, our head under ``head``."""
    pix = r'^sem_seg_head\.(?:pixel_decoder\.)?'     # old checkpoints lack 'pixel_decoder.'
    dec = r'^sem_seg_head\.predictor\.transformer\.decoder\.'
    return [
        # BasePixelDecoder → PixelDecoder (detectron2 Conv2d's norm is `.norm`, mmcv's `.gn`)
        (pix + r'adapter_(\d)\.norm\.', lambda m: f'{head}pixel_decoder.lateral_convs.{int(m.group(1)) - 1}.gn.'),
        (pix + r'adapter_(\d)\.', lambda m: f'{head}pixel_decoder.lateral_convs.{int(m.group(1)) - 1}.conv.'),
        (pix + r'layer_(\d)\.norm\.', lambda m: f'{head}pixel_decoder.{_pixel_decoder_layer(m)}gn.'),
        (pix + r'layer_(\d)\.', lambda m: f'{head}pixel_decoder.{_pixel_decoder_layer(m)}conv.'),
        (pix + r'mask_features\.', head + 'pixel_decoder.mask_feature.'),
        # DETR decoder → DetrTransformerDecoder
        (dec + r'layers\.(\d+)\.self_attn\.', lambda m: f'{head}transformer_decoder.layers.{m.group(1)}.self_attn.attn.'),
        (dec + r'layers\.(\d+)\.multihead_attn\.', lambda m: f'{head}transformer_decoder.layers.{m.group(1)}.cross_attn.attn.'),
        (dec + r'layers\.(\d+)\.linear1\.', lambda m: f'{head}transformer_decoder.layers.{m.group(1)}.ffn.layers.0.0.'),
        (dec + r'layers\.(\d+)\.linear2\.', lambda m: f'{head}transformer_decoder.layers.{m.group(1)}.ffn.layers.1.'),
        (dec + r'layers\.(\d+)\.norm([123])\.',
         lambda m: f'{head}transformer_decoder.layers.{m.group(1)}.norms.{int(m.group(2)) - 1}.'),
        (dec + r'norm\.', head + 'transformer_decoder.post_norm.'),
        # the predictor's own layers; MLPs: detectron2 `layers.i` → nn.Sequential with ReLUs between
        (r'^sem_seg_head\.predictor\.input_proj\.', head + 'decoder_input_proj.'),
        (r'^sem_seg_head\.predictor\.query_embed\.', head + 'query_embed.'),
        (r'^sem_seg_head\.predictor\.(class|mask)_embed\.layers\.(\d+)\.',
         lambda m: f'{head}{"cls" if m.group(1) == "class" else "mask"}_embed.{2 * int(m.group(2))}.'),
    ]


def swin_merge_order(key: str, value: torch.Tensor, shape: tuple) -> torch.Tensor:
    """Swin's PatchMerging concatenates the 2×2 neighbours as (0,0), (1,0), (0,1), (1,1) blocks of
    C channels; mmseg's (nn.Unfold) interleaves them per channel, (c, row, col). Reorder the
    reduction's input columns and the norm to match; every other key passes through."""
    if '.downsample.reduction.' in key:
        out, four_c = value.shape
        return value.reshape(out, 4, four_c // 4)[:, [0, 2, 1, 3]].transpose(1, 2).reshape(out, four_c)
    if '.downsample.norm.' in key:
        return value.reshape(4, -1)[[0, 2, 1, 3]].transpose(0, 1).reshape(-1)
    return value
