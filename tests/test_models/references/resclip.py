"""Plain-PyTorch reference of ResCLIP test-time inference (one window, whole-image mode).

Written from a reading of the authors' code (yvhangyang/ResCLIP); nothing is copied.
Citations are to the authors' repository:
  M = clip/model.py,  S = resclip_segmentor.py,  P = pamr.py,  C = configs/cfg_*.py

Host attention used by the released code: attn_strategy='resclip' + arch='wo_resi'
(defaults at S:24, also what test_all.sh/README pass), which is NACLIP's final block
(key-key attention + Gaussian spatial prior, no residual, no FFN), M:473-494 / M:356-360.

Pipeline implemented by ``resclip_reference``:
 1. Patch embedding, class token, position embedding (bicubic re-sampling with the
    "+0.1" scale-factor trick when the grid differs from the pretraining grid), ln_pre.
    M:297-312, M:377-394.
 2. Blocks 0..L-2 run unchanged (pre-LN, residual, FFN), but their q-k softmax attention
    maps (per head, cls token included) are recorded.  M:318-323, M:590-592.
 3. RCS map A_c = mean of the recorded maps of blocks with 0-based index 5,6,7,8
    (i.e. layers 6-9 of 12), per head.  M:326-332.
 4. Last block, NACLIP-style (M:473-494, M:251-253 / M:356-360):
        L   = (k k^T) * d_head^-0.5                       (M:474)
        L   = tau_sfr * ((1-lam_sfr) L + lam_sfr * S~)    (only 2nd pass; M:476-484)
        L  += Omega  (Gaussian of patch distance, sigma=5, zero on cls row/col; M:464-471, M:398-424)
        A   = softmax(L)                                  (M:487)
        A   = tau_rcs * ((1-lam_rcs) A + lam_rcs * A_c)  (M:489-494)
        out = out_proj(concat_heads(A v))   -- no residual, no FFN (M:597-599, M:358)
        feats = ln_post(out) @ proj                       (M:366-367 / M:259-260)
 5. SFR first pass (M:335-345, M:242-290): run step 4 without S~, cosine logits of patch
    tokens vs. every text query (M:267-270), reshape to (Q,h,w), bilinear upsample to the
    window size (align_corners=False, M:272-275), PAMR 10 iters with dilations (8,16)
    guided by the *normalised* window image (M:279-284, P:107-135), softmax over queries
    of logit_scale*logits (M:285-288).
 6. Patch label matrix (M:106-126): per-pixel argmax over *queries*, pixels whose max
    prob < temp_thd are set to query 0; each 16x16 cell takes the mode.
 7. SFR matrix (M:152-240): S[i,j]=1 iff label_i==label_j (patch tokens only; cls row/col 0);
    with delete_same_entity, same-label pairs whose sampled straight line leaves the label
    are multiplied by exp(-cheb_dist/max_cheb_dist) (M:184-212, M:130-148); each row is
    smoothed by a 1-D Gaussian (sigma=gaussian_std, size int(6*sigma+1) made odd, zero pad)
    along the *flattened raster index* (M:216-230), relu, row-normalised (M:232-234).
    Then globally divided by its max and cast to float16 (M:477-478).
 8. Second pass: step 4 with S~ (M:349-360).  Patch tokens, L2-normalised (S:77-78), cosine
    logits vs queries (S:80), reshape + bilinear upsample to window size (S:82-87).
 9. Harness (S:153-184): bilinear resize to the original image size, softmax over
    queries of logit_scale*logits, max over synonyms of each class, argmax, pixels whose
    max prob < prob_thd -> class 0.  (area_thd is None in every config.)
"""
import math

import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------
def _pos_embed(visual, h, w):
    """Position embedding for an (h, w) patch grid (M:307-310, M:377-394)."""
    pe = visual.positional_embedding  # (1+N0, C)
    n0 = pe.shape[0] - 1
    if h * w == n0 and h == w:
        return pe
    g = int(math.sqrt(n0))
    grid = pe[1:].reshape(1, g, g, -1).permute(0, 3, 1, 2)
    # the authors resample with a scale factor of (h+0.1)/g, (w+0.1)/g (not with size=)
    grid = F.interpolate(grid, scale_factor=((h + 0.1) / g, (w + 0.1) / g), mode='bicubic',
                         align_corners=False, recompute_scale_factor=False)
    assert grid.shape[-2:] == (h, w)
    grid = grid.permute(0, 2, 3, 1).reshape(h * w, -1)
    return torch.cat([pe[:1], grid], dim=0)


def _qkv(attn, y):
    """Project y (N, C) with the MHA input projection, split heads -> (H, N, d)."""
    n, c = y.shape
    nh = attn.num_heads
    q, k, v = F.linear(y, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    split = lambda t: t.reshape(n, nh, c // nh).transpose(0, 1)
    return split(q), split(k), split(v)


def _merge_heads_and_project(attn, a, v):
    """out_proj(concat_h(A_h v_h)) -> (N, C)."""
    o = torch.bmm(a, v)  # (H, N, d)
    o = o.transpose(0, 1).reshape(o.shape[1], -1)
    return attn.out_proj(o)


def _gaussian_prior(h, w, std):
    """Omega (1+hw, 1+hw): exp(-|p-q|^2 / (2 std^2)) between patch positions,
    zero for the cls row and column (M:398-424; NACLIP's neighbourhood prior)."""
    rr, cc = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    pos = torch.stack([rr.flatten(), cc.flatten()], 1).float()
    d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
    out = torch.zeros(h * w + 1, h * w + 1)
    out[1:, 1:] = torch.exp(-d2 / (2 * std ** 2))
    return out


def _pamr(img, mask, num_iter=10, dilations=(8, 16)):
    """Pixel-adaptive mask refinement (P:107-135) written with explicit shifts.

    img: (1,3,H,W) guide (the normalised image); mask: (1,K,H,W) -> refined (1,K,H,W).
    The mask is first resized to the guide size with align_corners=True (P:117)."""
    mask = F.interpolate(mask, size=img.shape[-2:], mode='bilinear', align_corners=True)
    H, W = img.shape[-2:]
    # 8 neighbours per dilation, in the order of the authors' 3x3 kernels (P:24-33)
    offs = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]

    def neighbours(t, d, with_centre=False):
        tp = F.pad(t, [d] * 4, mode='replicate')
        o = offs if not with_centre else [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 0), (0, 1),
                                          (1, -1), (1, 0), (1, 1)]
        return [tp[:, :, d + dy * d: d + dy * d + H, d + dx * d: d + dx * d + W] for dy, dx in o]

    # local std over the 3x3 windows of all dilations pooled (9*len(dilations) samples)
    samples = []
    for d in dilations:
        samples += neighbours(img, d, with_centre=True)
    std = torch.stack(samples, 2).std(2, keepdim=True)  # (1,3,1,H,W), unbiased
    diffs = []
    for d in dilations:
        diffs += [(img - nb).abs() for nb in neighbours(img, d)]
    aff = -torch.stack(diffs, 2) / (1e-8 + 0.1 * std)  # (1,3,8*nd,H,W)
    aff = aff.mean(1, keepdim=True).softmax(2)  # mean over colour channels, softmax over neighbours
    for _ in range(num_iter):
        nbs = []
        for d in dilations:
            nbs += neighbours(mask, d)
        mask = (torch.stack(nbs, 2) * aff).sum(2)
    return mask


def _patch_labels(probs, temp_thd, ps):
    """(Q,H,W) probabilities -> (h,w) patch labels (M:106-126)."""
    lab = probs.argmax(0)
    lab[probs.max(0)[0] < temp_thd] = 0  # low-confidence pixels -> query index 0
    h, w = lab.shape[0] // ps, lab.shape[1] // ps
    cells = lab[:h * ps, :w * ps].reshape(h, ps, w, ps).permute(0, 2, 1, 3).reshape(h, w, ps * ps)
    return torch.mode(cells, dim=-1)[0]


def _sfr_matrix(labels, std, delete_same_entity=True):
    """SFR attention prior S~ (1+hw, 1+hw) from the patch label map (M:152-240, M:477-478)."""
    h, w = labels.shape
    n = h * w
    flat = labels.flatten()
    same = (flat[:, None] == flat[None, :]).float()  # diagonal is 1 automatically
    if delete_same_entity:
        rr, cc = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
        pos = torch.stack([rr.flatten(), cc.flatten()], 1)  # (n,2) long
        cheb = (pos[:, None, :] - pos[None, :, :]).abs().max(-1)[0]  # (n,n)
        m = int(cheb.max())
        t = torch.linspace(0, 1, steps=m + 1).view(1, -1, 1)  # same sampling for every pair
        ks = torch.arange(m + 1)
        connected = torch.ones(n, n, dtype=torch.bool)
        for i in range(n):  # one source patch at a time
            p = pos[i].float().view(1, 1, 2)
            pts = (p * (1 - t) + pos.float().view(n, 1, 2) * t).round().long()  # (n, m+1, 2)
            on_line = labels[pts[..., 0], pts[..., 1]] == flat[i]
            checked = ks.view(1, -1) <= cheb[i].view(-1, 1)  # only the first cheb[i,j]+1 samples
            connected[i] = (on_line | ~checked).all(1)
        decay = torch.exp(-cheb.float() / m)
        same = torch.where(connected, same, same * decay)
    # 1-D Gaussian smoothing of each row along the raster index
    ksz = min(n, int(6 * std + 1))
    ksz = ksz if ksz % 2 == 1 else ksz + 1
    x = torch.arange(ksz) - ksz // 2
    g = torch.exp(-(x ** 2) / (2 * std ** 2))
    g = g / g.sum()
    sm = F.conv1d(same.unsqueeze(1), g.view(1, 1, -1), padding=ksz // 2).squeeze(1)
    sm = sm.relu()
    sm = sm / (sm.sum(1, keepdim=True) + 1e-8)
    out = torch.zeros(n + 1, n + 1)
    out[1:, 1:] = sm
    out = out / out.max()
    return out.to(torch.float16)  # the authors cast it to half precision (M:478)


# --------------------------------------------------------------------------------------
# main entry point
# --------------------------------------------------------------------------------------
@torch.no_grad()
def resclip_reference(visual, image, text_emb, query_to_class=None, *,
                      rcs_layers=(5, 6, 7, 8), rcs_weights=(2.0, 0.3), sfr_weights=(2.2, 0.7),
                      temp_thd=0.5, gaussian_std=5.0, logit_scale=40.0, prob_thd=0.1,
                      delete_same_entity=True, sfr_pamr_steps=10, sfr_pamr_dilations=(8, 16),
                      use_rcs=True, use_sfr=True, out_size=None):
    """ResCLIP (NACLIP host) on one window.

    visual: open_clip VisionTransformer (batch-first, nn.MultiheadAttention blocks, no layer
            scale, QuickGELU if you want to match OpenAI weights).
    image:  (1,3,H,W) CLIP-normalised RGB window.
    text_emb: (Q,D) L2-normalised text queries (synonyms are separate queries).
    query_to_class: (Q,) long class index of each query (default: identity).
    Defaults of the keyword arguments are the VOC21 config (C: cfg_voc21.py:4-12,
    S:23-26, README 'test_all.sh wo_resi resclip 5').
    out_size: optional (H0,W0) original-image size for the harness resize (S:153-155).

    Returns dict(feats=(h*w,D) normalised dense features, logits=(Q,H,W) cosine logits at
    window size, probs=(C,h',w') class probabilities, labels=(h',w') predictions,
    patch_labels=(h,w) SFR first-pass labels or None).
    """
    ps = visual.conv1.kernel_size[0]
    H, W = image.shape[-2:]
    h, w = H // ps, W // ps
    Q = text_emb.shape[0]
    if query_to_class is None:
        query_to_class = torch.arange(Q)
    blocks = visual.transformer.resblocks

    # 1. embeddings (M:300-312)
    x = visual.conv1(image.to(visual.conv1.weight.dtype))  # (1,C,h,w); extra pixels are dropped
    x = x.flatten(2)[0].t()  # (hw, C) raster order
    x = torch.cat([visual.class_embedding.view(1, -1), x], 0)
    x = x + _pos_embed(visual, h, w)
    x = visual.ln_pre(x)

    # 2. unchanged blocks, recording q-k attention (M:318-323, M:590-592)
    maps = []
    for blk in blocks[:-1]:
        q, k, v = _qkv(blk.attn, blk.ln_1(x))
        a = torch.softmax(torch.bmm(q * q.shape[-1] ** -0.5, k.transpose(1, 2)), -1)
        maps.append(a)
        x = x + _merge_heads_and_project(blk.attn, a, v)
        x = x + blk.mlp(blk.ln_2(x))

    # 3. RCS (M:326-332)
    a_c = torch.stack([maps[i] for i in rcs_layers]).mean(0) if use_rcs else None

    omega = _gaussian_prior(h, w, gaussian_std)
    last = blocks[-1]

    def last_block(sfr=None):
        q, k, v = _qkv(last.attn, last.ln_1(x))
        logits = torch.bmm(k, k.transpose(1, 2)) * q.shape[-1] ** -0.5
        if sfr is not None:
            tau, lam = sfr_weights
            logits = tau * ((1 - lam) * logits + lam * sfr)
        logits = logits + omega
        a = logits.softmax(-1)
        if a_c is not None:
            tau, lam = rcs_weights
            a = tau * ((1 - lam) * a + lam * a_c)
        out = _merge_heads_and_project(last.attn, a, v)  # no residual, no FFN
        feats = visual.ln_post(out) @ visual.proj  # (1+hw, D)
        feats = feats[1:]
        return feats / feats.norm(dim=-1, keepdim=True)

    def window_logits(feats):
        lg = (feats @ text_emb.t()).t().reshape(Q, h, w)
        return F.interpolate(lg[None], size=(H, W), mode='bilinear', align_corners=False)[0]

    # 5-7. SFR
    sfr, patch_labels = None, None
    if use_sfr:
        first = window_logits(last_block())
        first = _pamr(image.float(), first[None].float(), sfr_pamr_steps, sfr_pamr_dilations)[0]
        first = torch.softmax(first * logit_scale, 0)
        patch_labels = _patch_labels(first, temp_thd, ps)
        sfr = _sfr_matrix(patch_labels, gaussian_std, delete_same_entity)

    # 8. final pass
    feats = last_block(sfr)
    logits = window_logits(feats)

    # 9. harness post-processing
    lg = logits if out_size is None else F.interpolate(
        logits[None], size=tuple(out_size), mode='bilinear', align_corners=False)[0]
    qprob = torch.softmax(lg * logit_scale, 0)
    n_cls = int(query_to_class.max()) + 1
    probs = torch.stack([qprob[query_to_class == c].max(0)[0] for c in range(n_cls)])
    labels = probs.argmax(0)
    labels[probs.max(0)[0] < prob_thd] = 0
    return dict(feats=feats, logits=logits, probs=probs, labels=labels, patch_labels=patch_labels)
