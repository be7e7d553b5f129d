"""A written-out reference of Trident's test-time computation, in the authors' order of operations
(YuHengsss/Trident @a93b346): trident.py:112-225 (SAM features, windows), open_clip/transformer.py
:502-659 (the tower: ProxyCLIP pooling with one mean over all windows, the splice, SAM's
aggregation), seg_utils/utils.py:9-197 (the input fit, the refinement). Batch size 1."""
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from segment_anything.modeling.image_encoder import add_decomposed_rel_pos
from segment_anything.utils.transforms import ResizeLongestSide

from .proxyclip import CLIP_MEAN, CLIP_STD, IN_MEAN, IN_STD, _dino_interpolated_pos, dino_last_features


def preprocess_image(image, stride=16, slide_crop=336):
    """utils.py:9-25."""
    longer = max(image.shape[2:])
    h, w = image.shape[2:]
    if h % stride == 0 and w % stride == 0:
        return image
    dst = (longer // stride + 1) * stride if longer % stride else longer
    nh, nw = int(h * dst / longer), int(w * dst / longer)
    if nh % stride:
        nh = (nh // stride + 1) * stride
    if nw % stride:
        nw = (nw // stride + 1) * stride
    return F.interpolate(image, (max(nh, slide_crop), max(nw, slide_crop)), mode='bilinear',
                         align_corners=False)


def sam_last(sam, rgb):
    """SamPredictor.set_image's preprocessing, the encoder up to its last block, that block's
    attention (with decomposed relative positions) and values, cropped to the valid grid."""
    t = ResizeLongestSide(sam.image_encoder.img_size)
    img = torch.as_tensor(t.apply_image(rgb)).permute(2, 0, 1)[None]
    valid = img.shape[-2:]
    x = sam.preprocess(img.float())
    enc = sam.image_encoder
    x = enc.patch_embed(x)
    if enc.pos_embed is not None:
        x = x + enc.pos_embed
    for blk in enc.blocks[:-1]:
        x = blk(x)
    attn_mod = enc.blocks[-1].attn
    y = enc.blocks[-1].norm1(x)
    B, H, W, _ = y.shape
    qkv = attn_mod.qkv(y).reshape(B, H * W, 3, attn_mod.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k, v = qkv.reshape(3, B * attn_mod.num_heads, H * W, -1).unbind(0)
    attn = (q * attn_mod.scale) @ k.transpose(-2, -1)
    if attn_mod.use_rel_pos:
        attn = add_decomposed_rel_pos(attn, q, attn_mod.rel_pos_h, attn_mod.rel_pos_w, (H, W), (H, W))
    attn = attn.softmax(-1)
    nh = attn_mod.num_heads
    vh, vw = valid[0] // 16, valid[1] // 16
    attn = attn.view(1, nh, H, W, H, W)[:, :, :vh, :vw, :vh, :vw].flatten(2, 3).flatten(3, 4)
    v = v.view(1, nh, H, W, -1)[:, :, :vh, :vw]
    return attn, v


def sam_sim(sam_v, sam_attn, cos_fac, heads, refine_neg_cos=True):
    """transformer.py:643-659."""
    sv = F.normalize(sam_v.flatten(2, 3), dim=-1)
    sim = torch.einsum('bhmc,bhnc->bhmn', sv, sv)
    thr = cos_fac * sim.mean(dim=1, keepdim=True).mean(dim=-1, keepdim=True)
    if not refine_neg_cos:
        thr = torch.where(thr < 0.0, 0.6, thr)
    thr = torch.where(thr > 0.9, 0.9, thr)
    refined = torch.where(sim > thr, sam_attn, torch.zeros_like(sam_attn)).mean(dim=1)
    return (refined / refined.sum(dim=-1, keepdim=True)).unsqueeze(0).repeat(1, heads, 1, 1)


def trident_logits(visual, vit, sam, image, rgb, text, ori, crop=336, stride=224, beta=1.2,
                   gamma=3.0, cos_fac=1.2, refine_neg_cos=True):
    """get_trident_seg (trident.py:131-188) → (Q, H0, W0)."""
    p = visual.conv1.stride[0]
    h0, w0 = rgb.shape[:2]
    th, tw = (h0 // p + 1) * p if h0 % p else h0, (w0 // p + 1) * p if w0 % p else w0
    import cv2
    sam_rgb = cv2.resize(rgb, (tw, th))
    sam_attn, sam_v = sam_last(sam, sam_rgb)
    img = preprocess_image(image, p, crop)
    H, W = img.shape[-2:]
    rows = max(H - crop + stride - 1, 0) // stride + 1
    cols = max(W - crop + stride - 1, 0) // stride + 1
    crops, locs = [], []
    for i in range(rows):
        for j in range(cols):
            y1, x1 = i * stride, j * stride
            y2, x2 = min(y1 + crop, H), min(x1 + crop, W)
            y1, x1 = max(y2 - crop, 0), max(x2 - crop, 0)
            crops.append(img[..., y1:y2, x1:x2])
            locs.append((y1 // p, x1 // p, y2 // p, x2 // p))
    batch = torch.cat(crops)
    n = len(crops)
    feats = torch.cat([dino_last_features(vit, ((c * CLIP_STD + CLIP_MEAN) - IN_MEAN) / IN_STD)
                       for c in crops])                                   # (n, C, 21, 21)
    x = visual.conv1(batch)
    t0, t1 = x.shape[-2:]
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([visual.class_embedding.view(1, 1, -1).expand(n, 1, -1), x], dim=1)
    x = visual.ln_pre(x + _dino_interpolated_pos(visual.positional_embedding[None], t0, t1))
    for blk in visual.transformer.resblocks[:-1]:
        x = blk(x)
    x = x[:, 1:].transpose(0, 1)                                          # LND, CLS dropped
    last = visual.transformer.resblocks[-1]
    L, bsz, D = x.shape
    nh = last.attn.num_heads
    hd = D // nh
    _, _, v = F.linear(last.ln_1(x), last.attn.in_proj_weight, last.attn.in_proj_bias).chunk(3, -1)
    v = v.contiguous().view(L, bsz * nh, hd).transpose(0, 1)
    fh, fw = feats.shape[-2:]
    f = F.normalize(feats.flatten(2), dim=1)
    s = torch.einsum('bcm,bcn->bmn', f, f)
    s = (s - torch.mean(s) * beta) * gamma                                # one mean, all windows
    s[s < 0.0] = float('-inf')
    a = F.softmax(s, dim=-1).repeat_interleave(nh, dim=0)
    v = v.reshape(bsz * nh, t0, t1, hd).permute(0, 3, 1, 2)
    v = F.interpolate(v, size=(fh, fw), mode='bilinear', align_corners=False)
    v = v.reshape(bsz * nh, hd, fh * fw).transpose(1, 2)
    out = last.attn.out_proj(torch.bmm(a, v).transpose(0, 1).reshape(fh * fw, bsz, D))
    v_img = out.view(fh, fw, bsz, D).permute(2, 3, 0, 1)
    if v_img.shape[-1] % t1:
        v_img = F.interpolate(v_img, size=(t0, t1), mode='bilinear', align_corners=False)
    dst = v_img.new_zeros(1, D, H // p, W // p)
    count = v_img.new_zeros(1, 1, H // p, W // p)
    for (y1, x1, y2, x2), m in zip(locs, v_img):
        dst[0, :, y1:y2, x1:x2] += m
        count[:, :, y1:y2, x1:x2] += 1
    dst = dst / count
    dst = F.interpolate(dst, size=sam_v.shape[2:4], mode='bilinear', align_corners=False)
    weights = sam_sim(sam_v, sam_attn, cos_fac, nh, refine_neg_cos)
    dst = dst.view(1, nh, hd, -1).permute(0, 1, 3, 2)
    feat = torch.matmul(weights, dst).permute(2, 0, 1, 3).flatten(2)     # (HW, 1, D)
    feat = visual.ln_post(feat[:, 0]) @ visual.proj
    feat = feat / feat.norm(dim=-1, keepdim=True)
    logits = (feat @ text.t()).t().reshape(1, -1, *sam_v.shape[2:4])
    return F.interpolate(logits, size=ori, mode='bilinear')[0]


def refine(predictor, rgb_hw, seg, probs, coarse_thresh, minimal_area=225, coeff=0.005, iou=0.8):
    """sam_refinement + map_refinement_coarse (utils.py:27-190) on (H, W) labels, (K, H, W) probs."""
    from torchvision.ops import masks_to_boxes
    K = probs.shape[0]
    dh, dw = probs.shape[-2] // 2, probs.shape[-1] // 2
    seg_d = F.interpolate(seg[None, None].float(), [dh, dw], mode='nearest')[0].long()
    p_d = F.interpolate(probs[None], [dh, dw], mode='bilinear', align_corners=False)[0]
    seg_d[p_d.max(0, keepdim=True)[0] < coarse_thresh] = K
    onehot = F.one_hot(seg_d[0], K + 1).permute(2, 0, 1).numpy()
    side = 4 * predictor.model.prompt_encoder.image_embedding_size[0]
    new_h, new_w = predictor.transform.get_preprocess_shape(rgb_hw[0], rgb_hw[1], side)
    kept = []
    for c in range(K):
        if p_d[c].max() < coarse_thresh:
            continue
        lab, num = ndimage.label(onehot[c], structure=np.ones((3, 3)))
        regions, points = [], []
        for r in range(1, num + 1):
            m = lab == r
            if m.sum() < minimal_area:
                continue
            pos = torch.argmax(p_d[c] * torch.from_numpy(m))
            points.append(torch.tensor([pos % dw, pos // dw]))
            regions.append(torch.from_numpy(m))
        if not regions:
            continue
        boxes = masks_to_boxes(torch.stack(regions))
        r = F.interpolate(p_d[c][None, None], [new_h, new_w], mode='bilinear', align_corners=False)
        r = F.pad(r, (0, side - new_w, 0, side - new_h))
        r = torch.where(r > coarse_thresh, coeff * r, torch.tensor(0.0))[0]   # (1, 256, 256), theirs
        b = predictor.transform.apply_boxes_torch(boxes.float(), [dh, dw])
        pts = predictor.transform.apply_coords_torch(torch.stack(points).float(), [dh, dw])[:, None]
        _, score, low = predictor.predict_torch(point_coords=pts, point_labels=torch.ones(len(pts), 1),
                                                boxes=b, mask_input=r, multimask_output=False)
        good = score[:, 0] > iou
        if good.any():
            kept.append((c, low[good]))
    if not kept:
        return seg
    logits = predictor.model.postprocess_masks(torch.cat([l for _, l in kept]), predictor.input_size,
                                               predictor.original_size)
    if tuple(logits.shape[-2:]) != tuple(rgb_hw):
        logits = F.interpolate(logits, rgb_hw, mode='bilinear', align_corners=False)
    masks, sig = logits > predictor.model.mask_threshold, logits.sigmoid()
    whole = torch.zeros(K, *rgb_hw)
    start = 0
    for c, low in kept:
        n = len(low)
        whole[c] = (sig[start:start + n, 0] * probs[c]).max(dim=0).values * masks[start:start + n, 0].sum(0).bool()
        start += n
    return torch.where(whole.sum(0) == 0, seg, whole.argmax(0))
