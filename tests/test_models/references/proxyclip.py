"""A written-out reference of ProxyCLIP's test-time computation, in the authors' order of
operations (mc-lan/ProxyCLIP @e7b767f): proxyclip_segmentor.py:107-186 (one crop), 188-244
(slide), 267-292 (post-processing); open_clip/transformer.py:503-587 (the CLIP tower).
Plain loops over the modules of an open_clip ViT and a timm DINO ViT; batch size 1, as theirs."""
import math

import torch
import torch.nn.functional as F

CLIP_MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(1, 3, 1, 1)
CLIP_STD = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(1, 3, 1, 1)
IN_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IN_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _dino_interpolated_pos(pos, h, w):
    """DINO's interpolate_pos_encoding: bicubic with scale factors (h + 0.1)/√N, (w + 0.1)/√N;
    the table as it is when the grid is its own (as every authors' copy of it)."""
    n = pos.shape[1] - 1
    m = int(math.sqrt(n))
    if (h, w) == (m, m):
        return pos
    patch = pos[:, 1:].reshape(1, m, m, -1).permute(0, 3, 1, 2)
    patch = F.interpolate(patch, scale_factor=((h + 0.1) / m, (w + 0.1) / m), mode='bicubic')
    assert patch.shape[-2:] == (h, w)
    return torch.cat([pos[:, :1], patch.permute(0, 2, 3, 1).reshape(1, h * w, -1)], dim=1)


def dino_tokens(vit, crop, blocks=None):
    """DINO's patch embedding, CLS token and interpolated positions, then its first ``blocks``
    blocks (all by default; -1: all but the last) → (1, 1 + h*w, C) and the grid (h, w)."""
    p = vit.patch_embed.patch_size[0]
    h, w = crop.shape[-2] // p, crop.shape[-1] // p
    x = vit.patch_embed.proj(crop).flatten(2).transpose(1, 2)
    x = torch.cat([vit.cls_token.expand(1, -1, -1), x], dim=1)
    x = x + _dino_interpolated_pos(vit.pos_embed, h, w)
    for blk in vit.blocks[:blocks]:
        x = blk(x)
    return x, (h, w)


def dino_last_features(vit, crop):
    """DINO's get_intermediate_layers(x)[0] without its CLS token → (1, C, h, w)."""
    x, (h, w) = dino_tokens(vit, crop)
    x = vit.norm(x)[:, 1:]
    return x.reshape(1, h, w, -1).permute(0, 3, 1, 2)


def clip_proxy_features(visual, crop, ex_feats, beta=1.2, gamma=3.0):
    """open_clip/transformer.py:503-587 with external features: (1, H*W, E) on the proxy grid."""
    x = visual.conv1(crop)
    t0, t1 = x.shape[-2:]
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([visual.class_embedding.view(1, 1, -1), x], dim=1)
    x = x + _dino_interpolated_pos(visual.positional_embedding[None], t0, t1)
    x = visual.ln_pre(x)
    for blk in visual.transformer.resblocks[:-1]:
        x = blk(x)
    last = visual.transformer.resblocks[-1]
    x = x.transpose(0, 1)                                      # LND, as theirs
    n_tok, B, D = x.shape
    nh = last.attn.num_heads
    hd = D // nh
    q, k, v = F.linear(last.ln_1(x), last.attn.in_proj_weight, last.attn.in_proj_bias).chunk(3, -1)
    v = v.contiguous().view(n_tok, B * nh, hd).transpose(0, 1)  # (B*nh, 1+N, hd)
    H, W = ex_feats.shape[-2:]
    f = F.normalize(ex_feats.flatten(2), dim=1)
    s = torch.einsum('bcm,bcn->bmn', f, f)
    s = (s - torch.mean(s) * beta) * gamma
    s[s < 0.0] = float('-inf')
    attn = F.softmax(s, dim=-1).repeat_interleave(nh, dim=0)    # same for every head
    v = v[:, 1:].reshape(B * nh, t0, t1, hd).permute(0, 3, 1, 2)
    v = F.interpolate(v, size=(H, W), mode='bilinear', align_corners=False)
    v = v.reshape(B * nh, hd, H * W).transpose(1, 2)
    out = torch.bmm(attn, v).transpose(0, 1).reshape(H * W, B, D)
    out = last.attn.out_proj(out).transpose(0, 1)             # back to NLD
    return visual.ln_post(out) @ visual.proj


def _pad_56(crop):
    """compute_padsize (proxyclip_segmentor.py:294-306): zero-pad to a multiple of 56, split evenly."""
    H, W = crop.shape[-2:]
    ph, pw = (-H) % 56, (-W) % 56
    t, l = ph // 2, pw // 2
    return F.pad(crop, (l, pw - l, t, ph - t)), (t, l, H, W)


def crop_logits(visual, vit, crop, text, beta=1.2, gamma=3.0):
    """forward_feature (proxyclip_segmentor.py:107-186) on a CLIP-normalised crop → (Q, H, W)."""
    padded, (t, l, H, W) = _pad_56(crop)
    dino_in = ((padded * CLIP_STD + CLIP_MEAN) - IN_MEAN) / IN_STD
    ex = dino_last_features(vit, dino_in)
    feats = clip_proxy_features(visual, padded, ex, beta, gamma)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    h, w = ex.shape[-2:]
    logits = (feats @ text.t()).permute(0, 2, 1).reshape(1, -1, h, w)
    logits = F.interpolate(logits, size=padded.shape[-2:], mode='bilinear')
    return logits[0, :, t:t + H, l:l + W]


def slide_logits(visual, vit, image, text, crop=336, stride=112, **kw):
    """forward_slide (proxyclip_segmentor.py:188-244) before the resize to the original shape."""
    _, _, Hi, Wi = image.shape
    rows = max(Hi - crop + stride - 1, 0) // stride + 1
    cols = max(Wi - crop + stride - 1, 0) // stride + 1
    preds = torch.zeros(text.shape[0], Hi, Wi)
    count = torch.zeros(1, Hi, Wi)
    for i in range(rows):
        for j in range(cols):
            y1, x1 = i * stride, j * stride
            y2, x2 = min(y1 + crop, Hi), min(x1 + crop, Wi)
            y1, x1 = max(y2 - crop, 0), max(x2 - crop, 0)
            preds[:, y1:y2, x1:x2] += crop_logits(visual, vit, image[..., y1:y2, x1:x2], text, **kw)
            count[:, y1:y2, x1:x2] += 1
    return preds / count


def postprocess(logits, query_class, num_classes, logit_scale=40.0, prob_thd=0.0):
    """postprocess_result (proxyclip_segmentor.py:267-292): (Q, H, W) → (K, H, W) probs, labels."""
    p = F.softmax(logits * logit_scale, dim=0)
    probs = torch.stack([p[query_class == c].max(0).values for c in range(num_classes)])
    labels = probs.argmax(0)
    labels[probs.max(0).values < prob_thd] = 0
    return probs, labels
