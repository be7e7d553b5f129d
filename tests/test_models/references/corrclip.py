"""A written-out reference of CorrCLIP's test-time computation, in the authors' order of operations
(zdk258/CorrCLIP @103bc18, CorrCLIPv1/): corrclip_segmentor.py:92-121 (one crop), 123-181 (slide),
183-233 (post-processing, map correction); open_clip/transformer.py:506-634 (the tower: one
masked sequence with the region tokens in front, as theirs). Batch size 1, as theirs. DBSCAN with
one sample per core point is the connected components of the ε-graph (scipy here)."""
import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse.csgraph import connected_components

from .proxyclip import CLIP_MEAN, CLIP_STD, IN_MEAN, IN_STD, _dino_interpolated_pos, _pad_56, dino_tokens


def dino_qk(vit, crop):
    """normalize(q + k) of DINO's last block (the qkv hook), CLS dropped → (1, N, C), grid."""
    x, (h, w) = dino_tokens(vit, crop, -1)
    qkv = vit.blocks[-1].attn.qkv(vit.blocks[-1].norm1(x))
    qkv = qkv.reshape(1, x.shape[1], 3, -1).permute(2, 0, 1, 3)
    return F.normalize((qkv[0] + qkv[1])[:, 1:], dim=-1), (h, w)


def clip_corr_features(visual, crop, dino_feats, feat_shape, masks, num_spatial=None):
    """transformer.py:506-634 → (1, N, E) on the DINO grid; ``masks`` (1, 1, H, W) region ids."""
    t0, t1 = crop.shape[-2] // visual.conv1.stride[0], crop.shape[-1] // visual.conv1.stride[1]
    x = visual.conv1(crop).flatten(2).transpose(1, 2)
    x = torch.cat([visual.class_embedding.view(1, 1, -1), x], dim=1)
    x = x + _dino_interpolated_pos(visual.positional_embedding[None], t0, t1)
    x = visual.ln_pre(x)[0]                                        # (1+T, D): batch 1, LD
    L = len(visual.transformer.resblocks)
    n_sp = num_spatial or {12: 5, 24: 12, 32: 28}.get(L, L - 4)
    sim = dino_feats[0] @ dino_feats[0].t()
    m = F.interpolate(masks.float(), size=feat_shape, mode='nearest').int().squeeze(1)[0]
    feats = dino_feats[0].reshape(*feat_shape, -1)
    values = torch.unique(m)
    if values.shape[0] > 2:
        regions = [v == m for v in values]
        inst = F.normalize(torch.stack([feats[r].mean(0) for r in regions]), dim=1)[1:]
        isim = inst @ inst.t()
        dist = (isim.max() - isim).numpy()
        _, cluster = connected_components(dist <= 0.2, directed=False)
        merged = m.clone()
        for idx, c in enumerate(cluster, start=1):
            merged[regions[idx]] = int(c) + 10000
        m = merged
    regions = [(v == m).view(-1) for v in torch.unique(m)]
    allow = torch.zeros_like(sim).bool()
    for r in regions[1:]:
        allow |= torch.outer(r, r)
    r0 = regions[0]
    allow |= (r0[None] | r0[:, None]) & (sim > sim.mean())
    sim = sim.masked_fill(~allow, float('-inf'))
    attn = (sim * 4.0).softmax(-1)
    mt = F.interpolate(m[None, None].float(), size=(t0, t1), mode='nearest').int()[0, 0]
    region_masks = torch.stack([v == mt for v in torch.unique(mt)])
    R = region_masks.shape[0]
    x = torch.cat([x[:1].repeat(R, 1), x])
    n = x.shape[0]
    allowed = torch.zeros(n, n, dtype=torch.bool)
    allowed[R:, R:] = True
    allowed[:R, R] = True
    allowed[:R, R + 1:] = region_masks.view(R, -1)
    mask = torch.zeros(n, n).masked_fill(~allowed, float('-inf'))
    spatial = []
    blocks = visual.transformer.resblocks
    for idx, blk in enumerate(blocks[:-1]):
        x = blk(x[None], attn_mask=mask)[0]
        if L - 2 - n_sp <= idx <= L - 3:
            spatial.append(x[R:])
    last = blocks[-1]
    both = torch.stack([x[R:], torch.stack(spatial).mean(0)])      # (2, 1+T, D)
    D = both.shape[-1]
    v = F.linear(last.ln_1(both), last.attn.in_proj_weight[2 * D:], last.attn.in_proj_bias[2 * D:])
    v = v[:, 1:].transpose(1, 2).unflatten(2, (t0, t1))
    v = F.interpolate(v, size=feat_shape, mode='bilinear', align_corners=False).flatten(2).transpose(1, 2)
    pooled = last.attn.out_proj(torch.bmm(attn.expand(2, -1, -1), v))
    mct = last(x[None], attn_mask=mask)[0, :R]
    cells = F.interpolate(region_masks[:, None].float(), size=feat_shape, mode='nearest').flatten(1)
    semantic = cells.t() @ mct
    out = visual.ln_post(torch.stack([pooled[0], pooled[1], semantic]))
    return ((out[0] + out[1] + 0.5 * out[2]) @ visual.proj)[None]


def crop_logits(visual, vit, crop, masks, text, **kw):
    """forward_feature on a CLIP-normalised crop and its region ids (padded with 10000, as
    theirs; our padding is a fresh id, the same on crops with any padding) → (Q, H, W)."""
    padded, (t, l, H, W) = _pad_56(crop)
    pm = F.pad(masks[None].float(), (l, padded.shape[-1] - W - l, t, padded.shape[-2] - H - t),
               value=float(masks.max()) + 1)
    dino_in = ((padded * CLIP_STD + CLIP_MEAN) - IN_MEAN) / IN_STD
    feats, shape = dino_qk(vit, dino_in)
    out = clip_corr_features(visual, padded, feats, shape, pm[None], **kw)
    out = F.normalize(out, dim=-1)
    logits = (out @ text.t()).permute(0, 2, 1).reshape(1, -1, *shape)
    logits = F.interpolate(logits, size=padded.shape[-2:], mode='bilinear')
    return logits[0, :, t:t + H, l:l + W]


def slide_logits(visual, vit, image, masks, text, crop=336, stride=112, **kw):
    """forward_slide (corrclip_segmentor.py:123-181) before the resize to the original shape;
    ``masks`` (H, W) ids at the image's size."""
    _, _, Hi, Wi = image.shape
    rows = max(Hi - crop + stride - 1, 0) // stride + 1
    cols = max(Wi - crop + stride - 1, 0) // stride + 1
    preds, count = torch.zeros(text.shape[0], Hi, Wi), torch.zeros(1, Hi, Wi)
    for i in range(rows):
        for j in range(cols):
            y1, x1 = i * stride, j * stride
            y2, x2 = min(y1 + crop, Hi), min(x1 + crop, Wi)
            y1, x1 = max(y2 - crop, 0), max(x2 - crop, 0)
            preds[:, y1:y2, x1:x2] += crop_logits(visual, vit, image[..., y1:y2, x1:x2],
                                                  masks[y1:y2, x1:x2], text, **kw)
            count[:, y1:y2, x1:x2] += 1
    return preds / count


def map_correction(labels, raw):
    """corrclip_segmentor.py:216-222: every raw region but the smallest id takes its mode."""
    out = labels.clone()
    for v in torch.unique(raw)[1:]:
        sel = raw == v
        counts = np.bincount(labels[sel].numpy())
        out[sel] = int(counts.argmax())
    return out
