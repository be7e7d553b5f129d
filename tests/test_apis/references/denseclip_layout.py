"""State-dict keys and shapes of the authors' released DenseCLIP checkpoints (raoyongming/DenseCLIP,
commit 5eda47f), derived from their module definitions (a written-out copy of their module tree).

Plain-PyTorch skeletons that mirror the authors' attribute names and nesting (written here, not
copied); mmseg 0.19 / mmdet 2.17 / mmcv 1.3.17 parts (FPN, FPNHead, RetinaHead, RPNHead,
StandardRoIHead, ConvModule) are mirrored by their well-known attribute names. Modules are built on
the meta device: no memory, shapes only.

Each ``<model>()`` returns ``{key: shape tuple}`` of ``checkpoint['state_dict']`` (mmcv 1.x
``save_checkpoint`` stores ``{'meta', 'state_dict', 'optimizer'}``, the state dict taken from the
unwrapped model, i.e. with no ``module.`` prefix).

Where each name comes from (paths in the authors' repo unless noted):
  segmentation/denseclip/denseclip.py:58-60,71,96,114,88,90   segmentor attributes (texts l.83: plain tensor)
  segmentation/denseclip/models.py:20-48 Bottleneck;  66-73 AttentionPool2d;  194-226 CLIPResNetWithAttention
  segmentation/denseclip/models.py:319-333 ResidualAttentionBlock (attn_mask: plain attribute, l.331);
      345-351 Transformer;  358-373 Attention;  393-416 TransformerDecoderLayer;  426-488 CLIPVisionTransformer
      (fpn1.2 = nn.SyncBatchNorm, l.455);  627-655 CLIPTextContextEncoder;  710-738 ContextDecoder
  detection/denseclip/models.py: same classes (187-219 CLIPResNetWithAttention, 611- text encoder,
      729- ContextDecoder); only forward code differs (attnpool crop, l.76)
  segmentation/denseclip/heads.py:11-25 IdentityHead (conv_seg=None)
  detection/denseclip/denseclip.py:50-74 DenseCLIP_RetinaNet;  306-343 DenseCLIP_MaskRCNN
  mmseg 0.19: mmseg/models/necks/fpn.py:117-160, decode_heads/fpn_head.py:31-53, decode_head.py:102
  mmdet 2.17: mmdet/models/necks/fpn.py:106-149, dense_heads/retina_head.py:64-92,
              dense_heads/rpn_head.py:53-59, roi_heads/bbox_heads/convfc_bbox_head.py:58-95,
              roi_heads/mask_heads/fcn_mask_head.py:67-111
  mmcv: ConvModule keeps ``conv`` and the norm under build_norm_layer's abbreviation ('bn' for
        BN/SyncBN); conv bias only without norm.
"""
from collections import OrderedDict
import math

import torch
from torch import nn


# ----------------------------------------------------------------------------------- CLIP parts
class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride > 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(OrderedDict([
                ('-1', nn.AvgPool2d(stride)),
                ('0', nn.Conv2d(inplanes, planes * 4, 1, bias=False)),
                ('1', nn.BatchNorm2d(planes * 4))]))


class AttentionPool2d(nn.Module):
    def __init__(self, spacial_dim, embed_dim, output_dim):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.empty(spacial_dim ** 2 + 1, embed_dim))
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.c_proj = nn.Linear(embed_dim, output_dim)


class CLIPResNetWithAttention(nn.Module):
    def __init__(self, layers, output_dim, input_resolution, width=64):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self._inplanes = width
        self.layer1 = self._make_layer(width, layers[0])
        self.layer2 = self._make_layer(width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(width * 8, layers[3], stride=2)
        self.attnpool = AttentionPool2d(input_resolution // 32, width * 32, output_dim)

    def _make_layer(self, planes, blocks, stride=1):
        layers = [Bottleneck(self._inplanes, planes, stride)]
        self._inplanes = planes * 4
        layers += [Bottleneck(self._inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(OrderedDict([
            ('c_fc', nn.Linear(d_model, d_model * 4)), ('gelu', nn.GELU()),
            ('c_proj', nn.Linear(d_model * 4, d_model))]))
        self.ln_2 = nn.LayerNorm(d_model)
        # attn_mask is a plain attribute (not a buffer): not in the state dict
        self.drop_path = nn.Identity()


class Transformer(nn.Module):
    def __init__(self, width, layers, heads):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(layers)])


class CLIPVisionTransformer(nn.Module):
    """get_embeddings=True, patch_size=16 branch."""

    def __init__(self, input_resolution, patch_size, width, layers, heads, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, patch_size, stride=patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        self.positional_embedding = nn.Parameter(
            torch.empty((input_resolution // patch_size) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.empty(width, output_dim))
        C = width
        self.fpn1 = nn.Sequential(nn.GroupNorm(1, C), nn.ConvTranspose2d(C, C, 2, 2),
                                  nn.BatchNorm2d(C),   # nn.SyncBatchNorm in theirs: same keys
                                  nn.GELU(), nn.ConvTranspose2d(C, C, 2, 2))
        self.fpn2 = nn.Sequential(nn.GroupNorm(1, C), nn.ConvTranspose2d(C, C, 2, 2))
        self.fpn3 = nn.GroupNorm(1, C)
        self.fpn4 = nn.Sequential(nn.GroupNorm(1, C), nn.MaxPool2d(2, 2))


class CLIPTextContextEncoder(nn.Module):
    def __init__(self, context_length, embed_dim, width=512, heads=8, layers=12, vocab_size=49408):
        super().__init__()
        self.transformer = Transformer(width, layers, heads)
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))


class Attention(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.attn_drop = nn.Dropout()
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout()


class TransformerDecoderLayer(nn.Module):
    def __init__(self, d_model):
        super().__init__()
        self.self_attn = Attention(d_model)
        self.cross_attn = Attention(d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout()
        self.mlp = nn.Sequential(nn.Linear(d_model, d_model * 4), nn.GELU(), nn.Dropout(),
                                 nn.Linear(d_model * 4, d_model))


class ContextDecoder(nn.Module):
    def __init__(self, transformer_width, transformer_layers, visual_dim):
        super().__init__()
        w = transformer_width
        self.memory_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, w),
                                         nn.LayerNorm(w))
        self.text_proj = nn.Sequential(nn.LayerNorm(visual_dim), nn.Linear(visual_dim, w))
        self.decoder = nn.ModuleList([TransformerDecoderLayer(w) for _ in range(transformer_layers)])
        self.out_proj = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, visual_dim))


# ------------------------------------------------------------------------ OpenMMLab 0.x / 2.x parts
class ConvModule(nn.Module):
    def __init__(self, cin, cout, k, norm=False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, bias=not norm)
        if norm:
            self.bn = nn.BatchNorm2d(cout)   # build_norm_layer abbr of BN/SyncBN: 'bn'


class NoParams(nn.Module):
    """Upsample / RoI extractors / losses: no parameters, no buffers."""


class FPN(nn.Module):
    def __init__(self, in_channels, out_channels, num_outs, start_level=0, add_extra_convs=False):
        super().__init__()
        end = len(in_channels)
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for i in range(start_level, end):
            self.lateral_convs.append(ConvModule(in_channels[i], out_channels, 1))
            self.fpn_convs.append(ConvModule(out_channels, out_channels, 3))
        extra = num_outs - end + start_level
        if add_extra_convs and extra >= 1:
            for i in range(extra):
                cin = in_channels[end - 1] if (i == 0 and add_extra_convs == 'on_input') else out_channels
                self.fpn_convs.append(ConvModule(cin, out_channels, 3))


class FPNHead(nn.Module):
    def __init__(self, in_channels, feature_strides, channels, num_classes):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, num_classes, 1)
        self.dropout = nn.Dropout2d(0.1)
        self.scale_heads = nn.ModuleList()
        for i, s in enumerate(feature_strides):
            n = max(1, int(math.log2(s) - math.log2(feature_strides[0])))
            mods = []
            for k in range(n):
                mods.append(ConvModule(in_channels[i] if k == 0 else channels, channels, 3, norm=True))
                if s != feature_strides[0]:
                    mods.append(NoParams())
            self.scale_heads.append(nn.Sequential(*mods))


class IdentityHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_seg = None   # BaseDecodeHead builds a Conv2d(1, 1, 1); IdentityHead sets it to None
        self.dropout = nn.Dropout2d(0.1)


class RetinaHead(nn.Module):
    def __init__(self, num_classes=80, in_channels=256, stacked_convs=4, feat=256, num_anchors=9):
        super().__init__()
        self.cls_convs = nn.ModuleList(
            [ConvModule(in_channels if i == 0 else feat, feat, 3) for i in range(stacked_convs)])
        self.reg_convs = nn.ModuleList(
            [ConvModule(in_channels if i == 0 else feat, feat, 3) for i in range(stacked_convs)])
        self.retina_cls = nn.Conv2d(feat, num_anchors * num_classes, 3, padding=1)  # sigmoid: no bg
        self.retina_reg = nn.Conv2d(feat, num_anchors * 4, 3, padding=1)


class RPNHead(nn.Module):
    def __init__(self, in_channels=256, feat=256, num_anchors=3):
        super().__init__()
        self.rpn_conv = nn.Conv2d(in_channels, feat, 3, padding=1)
        self.rpn_cls = nn.Conv2d(feat, num_anchors * 1, 1)   # use_sigmoid=True: 1 channel per anchor
        self.rpn_reg = nn.Conv2d(feat, num_anchors * 4, 1)


class Shared2FCBBoxHead(nn.Module):
    def __init__(self, in_channels=256, roi=7, fc=1024, num_classes=80):
        super().__init__()
        self.shared_convs = nn.ModuleList()
        self.shared_fcs = nn.ModuleList([nn.Linear(in_channels * roi * roi, fc), nn.Linear(fc, fc)])
        self.cls_convs, self.cls_fcs = nn.ModuleList(), nn.ModuleList()
        self.reg_convs, self.reg_fcs = nn.ModuleList(), nn.ModuleList()
        self.fc_cls = nn.Linear(fc, num_classes + 1)          # softmax CE: + background
        self.fc_reg = nn.Linear(fc, 4 * num_classes)          # reg_class_agnostic=False


class FCNMaskHead(nn.Module):
    def __init__(self, num_convs=4, in_channels=256, ch=256, num_classes=80):
        super().__init__()
        self.convs = nn.ModuleList([ConvModule(in_channels if i == 0 else ch, ch, 3) for i in range(num_convs)])
        self.upsample = nn.ConvTranspose2d(ch, ch, 2, 2)       # upsample_cfg type 'deconv'
        self.conv_logits = nn.Conv2d(ch, num_classes, 1)


class StandardRoIHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.bbox_roi_extractor = NoParams()
        self.bbox_head = Shared2FCBBoxHead()
        self.mask_roi_extractor = NoParams()
        self.mask_head = FCNMaskHead()


# ------------------------------------------------------------------------------- the five models
class _Model(nn.Module):
    pass


def _clip_parts(m, backbone, context_length, embed_dim, visual_dim, text_dim, n_ctx=8):
    m.backbone = backbone
    m.text_encoder = CLIPTextContextEncoder(context_length, embed_dim)
    m.context_decoder = ContextDecoder(256, 3, visual_dim)
    m.contexts = nn.Parameter(torch.empty(1, n_ctx, 512))   # (1, text ctx 13 - name ctx 5, token dim)
    m.gamma = nn.Parameter(torch.empty(text_dim))


def _shapes(m):
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def _segmentor(backbone, dim, neck_in):
    with torch.device('meta'):
        m = _Model()
        _clip_parts(m, backbone(), 13, dim, dim, dim)
        m.neck = FPN(neck_in, 256, 4)
        m.decode_head = FPNHead([256] * 4, [4, 8, 16, 32], 256, 150)
        m.identity_head = IdentityHead()       # from _base_/models/denseclip_r50.py: no keys
        return _shapes(m)


def seg_rn50():
    """segmentation/configs/denseclip_fpn_res50_512x512_80k.py"""
    return _segmentor(lambda: CLIPResNetWithAttention([3, 4, 6, 3], 1024, 512), 1024,
                      [256, 512, 1024, 2048 + 150])


def seg_rn101():
    """segmentation/configs/denseclip_fpn_res101_512x512_80k.py"""
    return _segmentor(lambda: CLIPResNetWithAttention([3, 4, 23, 3], 512, 512), 512,
                      [256, 512, 1024, 2048 + 150])


def seg_vitb16():
    """segmentation/configs/denseclip_fpn_vit-b_640x640_80k.py"""
    return _segmentor(lambda: CLIPVisionTransformer(640, 16, 768, 12, 12, 512), 512,
                      [768, 768, 768 + 150, 768])


def retinanet_rn50():
    """detection/configs/retinanet_denseclip_r50_fpn_1x_coco.py"""
    with torch.device('meta'):
        m = _Model()
        _clip_parts(m, CLIPResNetWithAttention([3, 4, 6, 3], 1024, 1344), 13, 1024, 1024, 1024)
        m.neck = FPN([256, 512, 1024, 2048 + 80], 256, 5, start_level=1, add_extra_convs='on_input')
        m.bbox_head = RetinaHead()
        return _shapes(m)


def maskrcnn_rn50():
    """detection/configs/mask_rcnn_denseclip_r50_fpn_1x_coco.py"""
    with torch.device('meta'):
        m = _Model()
        _clip_parts(m, CLIPResNetWithAttention([3, 4, 6, 3], 1024, 1344), 13, 1024, 1024, 1024)
        m.neck = FPN([256, 512, 1024, 2048 + 80], 256, 5)
        m.rpn_head = RPNHead()
        m.roi_head = StandardRoIHead()
        return _shapes(m)


MODELS = dict(seg_rn50=seg_rn50, seg_rn101=seg_rn101, seg_vitb16=seg_vitb16,
              retinanet_rn50=retinanet_rn50, maskrcnn_rn50=maskrcnn_rn50)

if __name__ == '__main__':
    for name, fn in MODELS.items():
        keys = fn()
        print(f'{name}: {len(keys)} keys, {sum(math.prod(s) for s in keys.values())} elements')
