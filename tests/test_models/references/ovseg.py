"""A written-out reference of OVSeg's mask classification, in the authors' order of operations
(facebookresearch/ov-seg @36f49d4): clip_adapter/adapter.py:147-198 (threshold, box, crop with the
mean fill, normalise, bicubic 224), utils.py:11-66 (expand_box, crop_with_mask), third_party/CLIP
/clip/model.py:320-352 (mask prompts in an OpenAI-layout tower: sequence-first blocks),
adapter.py:63-69 (×100 cosine), ovseg_model.py:243-255 (CLIP-only softmax, Σ p·m)."""
import torch
import torch.nn.functional as F


def boxes(masks):
    """detectron2 BitMasks.get_bounding_boxes."""
    out = torch.zeros(masks.shape[0], 4)
    x_any, y_any = masks.any(dim=1), masks.any(dim=2)
    for i in range(masks.shape[0]):
        x, y = torch.where(x_any[i])[0], torch.where(y_any[i])[0]
        if len(x) and len(y):
            out[i] = torch.tensor([x[0], y[0], x[-1] + 1, y[-1] + 1], dtype=torch.float32)
    return out


def expand_box(x1, y1, x2, y2, ratio):
    w, h = x2 - x1, y2 - y1
    cx, cy = x1 + 0.5 * w, y1 + 0.5 * h
    w, h = w * ratio, h * ratio
    return [int(v) for v in (cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h)]


def crop_with_mask(image, mask, bbox, fill, ratio):
    l, t, r, b = expand_box(*bbox, ratio)
    _, h, w = image.shape
    l, t, r, b = max(l, 0), max(t, 0), min(r, w), min(b, h)
    filler = torch.cat([image.new_full((1, b - t, r - l), fill_value=v) for v in fill])
    m = mask[None, t:b, l:r]
    return image[:, t:b, l:r] * m + (1 - m) * filler, m


def preprocess(image, masks, mean, std, thr, size, ratio):
    """→ crops, crop masks, valid (adapter.py:147-198)."""
    binary = masks > thr
    valid = binary.sum(dim=(-1, -2)) > 0
    binary = binary[valid].float()
    crops, cmasks = [], []
    for m, box in zip(binary, boxes(binary > 0)):
        region, rm = crop_with_mask(image.float(), m, box.tolist(), mean, ratio)
        crops.append(region)
        cmasks.append(rm)
    mean_t, std_t = torch.tensor(mean).view(3, 1, 1), torch.tensor(std).view(3, 1, 1)
    crops = [(c - mean_t) / std_t for c in crops]
    crops = torch.cat([F.interpolate(c[None], size=(size, size), mode='bicubic') for c in crops])
    cmasks = torch.cat([F.interpolate(m[None], size=(size, size), mode='nearest') for m in cmasks])
    return crops, cmasks[:, 0], valid


def prompted_tower(visual, mask_embedding, crops, cmasks, patch):
    """model.py:320-352 with open_clip's module names; blocks run sequence-first (L, N, D)."""
    x = visual.conv1(crops)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    m = torch.ceil(F.avg_pool2d(cmasks[:, None], patch, patch)).reshape(x.shape[0], -1, 1)
    x = x * m + mask_embedding[0][None] * (1 - m)
    cls = visual.class_embedding + torch.zeros(x.shape[0], 1, x.shape[-1])
    x = torch.cat([cls, x], dim=1) + visual.positional_embedding
    x = visual.ln_pre(x).permute(1, 0, 2)
    m = m.permute(1, 0, 2)
    for i, block in enumerate(visual.transformer.resblocks):
        x = block(x.permute(1, 0, 2)).permute(1, 0, 2)   # open_clip blocks are batch-first
        if i + 1 < mask_embedding.shape[0]:
            x = torch.cat([x[:1], x[1:] * m + mask_embedding[i + 1][:, None] * (1 - m)])
    x = visual.ln_post(x.permute(1, 0, 2)[:, 0]) @ visual.proj
    return x / x.norm(dim=-1, keepdim=True)


def classify(text, feats, valid, masks):
    """(K, D) unit text, (M, D) unit crops → (K, H, W) Σ_valid softmax(100 cos) · mask."""
    probs = F.softmax(100 * feats @ text.T, dim=-1)                     # (M, K)
    return torch.einsum('qc,qhw->chw', probs, masks[valid].float())
