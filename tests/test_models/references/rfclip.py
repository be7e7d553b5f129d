"""Plain-PyTorch reference of RF-CLIP's test-time computation for ONE window.

Independent re-statement (written from a reading of the authors' code, not
copied) of what the released RF-CLIP code computes (liblacklucy/RF-CLIP @
c2b333e64b57ba17a62e1564759c62cc9fb70cec).  Citations "model.py:N" refer to
clip/model.py, "seg.py:N" to custom_segmentor.py of that commit.

Input conventions
-----------------
visual    : open_clip VisionTransformer (open_clip >= 2.24, batch-first,
            nn.MultiheadAttention inside each resblock).  For a bit-faithful
            comparison with OpenAI weights build it with QuickGELU
            (``open_clip.create_model('ViT-B-16', force_quick_gelu=True)``);
            the reference itself simply calls ``blk.mlp``.
img       : (1, 3, H, W) CLIP-normalised window (RGB, mean/std of CLIP).
text_emb  : (K, D) L2-normalised per-name text embeddings (K = number of
            *names*, synonyms counted separately, seg.py:52, 301-311).
whole_img : optional (1, 3, H', W') full image; when given, the image-level
            similarity comes from the CLS token of a separate pass over it
            (slide mode, seg.py:170-176, 224-225).  None = whole-image mode
            or Cityscapes slide mode (seg.py:171-172, 222-223, 247).

Step-by-step (all defaults are the released ones)
-------------------------------------------------
 1. Tokens: conv patchify, prepend CLS, add position embedding (bicubic
    resize with the DINO "+0.1" scale_factor trick when the grid differs
    from the pretraining grid), ln_pre.                  model.py:275-286,317-332
 2. Blocks 0..L-2: x += out_proj(softmax(q k^T/sqrt(dh)) v) of ln_1(x)
    (plain q-k attention: strategy 'vanilla' is the default, model.py:123,
    the call at model.py:289 does not override it); x += mlp(ln_2(x));
    then "distractor denoising" (step 4).  The key-key attention
    softmax(k k^T/sqrt(dh)) of every block is kept.      model.py:288-292,159-166
    Optional paper variant ``attn_strategy='refocus'``: model.py:142-157.
 3. Last block L-1: ordinary residual block (q-k attention + FFN), then
    denoising; its CLS token -> ln_post -> proj is the global vector.
                                                          model.py:293-299
 4. Denoising D(.) (after every block, patch tokens only): per token,
    p = (f - min_c f) / sum_c (f - min_c f); token is a distractor if
    max_{c in S} p_c > 5/d, S = [4,162,189,326,429,474,633,713] (ViT-B/16);
    distractors get f <- 0.6 f + 0.4 * box3x3(f) (zero padded, /9), other
    tokens unchanged.                                     model.py:212-240
 5. Guide G = mean of the L denoised block outputs; patch graph
    S_ij = cos(G_i, G_j), zeroed where < 0.4 (NOT row-normalised).
                                                          model.py:242-267,303
 6. Two decoder inputs: a) x (input of the last block) with patches
    replaced by S @ x_patches; b) G with patches replaced by S @ G_patches.
    Each is decoded by the last block's attention *without residual and
    without FFN*: A = mean over all L layers of KK_l[:, 1:, 1:] (softmax
    taken over all tokens incl. CLS, then CLS row/col dropped), where the
    last layer's KK is recomputed from the decoder input itself; out =
    out_proj(A @ v_patches).  Dense = ln_post(mean(a, b)) @ proj.
                                                          model.py:175-210,302-311
 7. Text side (seg.py:96-129, 131-158): names are clustered ONCE per
    dataset with scipy complete linkage on sklearn cosine distances, cut at
    distance h_threshold (fcluster criterion='distance').  Per window, for
    every cluster the name with the highest image-level similarity g is
    chosen; its embedding t is nudged: t' = normalize((1-a) t + a m) with
    m = normalize(mean of the 2 patch features most similar to t),
    a = mean_vector_weight.  Other names are untouched.
 8. Logits (seg.py:177-184): l = (1-w) * F_n @ T'^T + w * g, w =
    global_semantics_weight, reshaped to the patch grid and bilinearly
    upsampled (align_corners=False) to the window size.
 Harness (not per window): slide stitching average, resize to original
 size, optional PAMR, x logit_scale(40), softmax over names, max over
 synonyms, argmax, prob < prob_thd -> 0 (seg.py:197-271); see
 ``postprocess`` below.
"""
from __future__ import annotations

import math
from typing import Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

VITB16_DISTRACTION_DIMS = (4, 162, 189, 326, 429, 474, 633, 713)      # model.py:212
VITL14_DISTRACTION_DIMS = (250, 261, 437, 650, 720, 779, 936, 1005)   # model.py:213


# --------------------------------------------------------------------------
# text side (once per dataset)
# --------------------------------------------------------------------------
def cluster_names(text_emb: torch.Tensor, h_threshold: float) -> np.ndarray:
    """Complete-linkage grouping of the K names (seg.py:96-102).

    Returns 0-based cluster ids (K,).  Cosine distances (the authors take sklearn's), linkage and distance cut
    from scipy, like the authors.
    """
    emb = text_emb.detach().double().cpu().numpy()
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    dist = np.clip(1.0 - unit @ unit.T, 0.0, 2.0)      # sklearn's cosine_distances, written out
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2
    tree = linkage(squareform(dist), method="complete")
    return fcluster(tree, t=h_threshold, criterion="distance") - 1


# --------------------------------------------------------------------------
# image side helpers
# --------------------------------------------------------------------------
def _position_embedding(visual, gh: int, gw: int, n_tokens: int) -> torch.Tensor:
    """model.py:281-284 + 317-332. Returns (1, 1+gh*gw, C)."""
    pos = visual.positional_embedding
    if n_tokens == pos.shape[0]:
        return pos.unsqueeze(0)
    n_old = pos.shape[0] - 1
    side = int(math.sqrt(n_old))
    cls_pos, grid = pos[:1], pos[1:]
    grid = grid.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    # The authors pass scale_factor=(g+0.1)/side with recompute_scale_factor
    # False; the sampling grid then differs slightly from size=(gh, gw), so
    # keep the same form to stay numerically identical.
    grid = F.interpolate(grid, scale_factor=((gh + 0.1) / side, (gw + 0.1) / side),
                         mode="bicubic", align_corners=False,
                         recompute_scale_factor=False)
    assert grid.shape[-2:] == (gh, gw)
    grid = grid.permute(0, 2, 3, 1).reshape(1, gh * gw, -1)
    return torch.cat([cls_pos.unsqueeze(0), grid], dim=1)


def _split_heads(t: torch.Tensor, n_heads: int) -> torch.Tensor:
    """(1, L, C) -> (heads, L, C/heads)."""
    L, C = t.shape[1], t.shape[2]
    return t[0].reshape(L, n_heads, C // n_heads).transpose(0, 1)


def _qkv(attn: torch.nn.MultiheadAttention, r: torch.Tensor):
    q, k, v = F.linear(r, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    h = attn.num_heads
    return _split_heads(q, h), _split_heads(k, h), _split_heads(v, h)


def _self_softmax(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """softmax(a b^T / sqrt(dh)) over the last axis; a, b: (heads, L, dh)."""
    return torch.softmax((a * a.shape[-1] ** -0.5) @ b.transpose(1, 2), dim=-1)


def _redistribute(attn: torch.Tensor, threshold: float, beta: float) -> torch.Tensor:
    """Paper's attention redistribution (model.py:142-157); OFF by default.

    Per head: a patch column j is a 'sink' if the attention it receives from
    patch rows, summed and divided by the token count L (incl. CLS), exceeds
    ``threshold``.  For patch rows, sink columns are scaled by ``beta`` and
    the removed mass (1-beta)*sum(sink) is handed to the non-sink patch
    columns in proportion to their (current) weights.  CLS row and CLS
    column are left as they are.
    """
    out = attn.clone()
    L = out.shape[-1]
    for h in range(out.shape[0]):
        pp = out[h, 1:, 1:]                      # patch -> patch block (view)
        sink = (pp.sum(dim=0) / L) > threshold
        if not bool(sink.any()):
            continue
        removed = pp[:, sink].sum(dim=1) * (1.0 - beta)
        pp[:, sink] = pp[:, sink] * beta
        keep = pp.clone()
        keep[:, sink] = 0.0
        share = keep / (keep.sum(dim=1, keepdim=True) + 1e-8)
        pp += removed.unsqueeze(1) * share
    return out


def _denoise(x: torch.Tensor, grid: Sequence[int], dims: Sequence[int],
             sigma: float = 5.0, alpha: float = 0.4) -> torch.Tensor:
    """Distractor-token smoothing on patch tokens (model.py:212-240).

    x: (1, 1+N, C). Returns a new tensor; the CLS token is left unchanged.
    """
    gh, gw = grid
    cls_tok, patches = x[:, :1], x[:, 1:]
    C = patches.shape[-1]
    shifted = patches - patches.amin(dim=-1, keepdim=True)
    share = shifted / shifted.sum(dim=-1, keepdim=True).clamp(min=1e-8)
    distractor = share[..., list(dims)].amax(dim=-1) > sigma / C      # (1, N)
    img = patches.transpose(1, 2).reshape(1, C, gh, gw)
    # 3x3 box filter, zero padding, always divided by 9 (also at borders)
    box = F.avg_pool2d(img, kernel_size=3, stride=1, padding=1,
                       count_include_pad=True)
    box = box.reshape(1, C, gh * gw).transpose(1, 2)
    smoothed = torch.where(distractor.unsqueeze(-1), box, patches)
    new_patches = (1.0 - alpha) * patches + alpha * smoothed
    return torch.cat([cls_tok, new_patches], dim=1)


def _patch_graph(guide_patches: torch.Tensor, cut: float = 0.4) -> torch.Tensor:
    """Thresholded cosine affinity between patch tokens (model.py:254-262)."""
    g = F.normalize(guide_patches[0], dim=-1, eps=1e-8)
    s = g @ g.t()
    return torch.where(s < cut, torch.zeros_like(s), s)


def _propagate(x: torch.Tensor, graph: torch.Tensor) -> torch.Tensor:
    """Replace patch tokens by graph @ patches (un-normalised sum), model.py:266."""
    return torch.cat([x[:, :1], (graph @ x[0, 1:]).unsqueeze(0)], dim=1)


def _decode(blk, u: torch.Tensor, kk_prev: Sequence[torch.Tensor]) -> torch.Tensor:
    """Last-block attention readout without residual/FFN (model.py:175-210).

    The attention map is the mean over all layers of the key-key attention
    restricted to patch rows/cols; the last layer's key-key attention is
    computed from ``u`` itself.  Returns (N, C) patch tokens after out_proj.
    """
    _, k, v = _qkv(blk.attn, blk.ln_1(u))
    kk_all = list(kk_prev) + [_self_softmax(k, k)]
    A = torch.stack([a[:, 1:, 1:] for a in kk_all]).mean(dim=0)     # (h, N, N)
    heads_out = A @ v[:, 1:]                                        # (h, N, dh)
    N = heads_out.shape[1]
    merged = heads_out.transpose(0, 1).reshape(N, -1)
    return blk.attn.out_proj(merged)


@torch.no_grad()
def encode_window(visual, img: torch.Tensor, *, attn_strategy: str = "vanilla",
                  refocus_threshold: float = 0.1, refocus_beta: float = 0.6,
                  distraction_dims: Sequence[int] = VITB16_DISTRACTION_DIMS,
                  denoise_sigma: float = 5.0, denoise_alpha: float = 0.4,
                  graph_cut: float = 0.4,
                  cls_only: bool = False) -> Dict[str, torch.Tensor]:
    """RF-CLIP visual encoder (model.py:269-315).

    Returns {'dense': (N, D) un-normalised patch features, 'cls': (D,)
    un-normalised global vector, 'grid': (gh, gw)}.
    """
    _, _, H, W = img.shape
    ps = visual.conv1.kernel_size[0]
    gh, gw = H // ps, W // ps
    tok = visual.conv1(img).flatten(2).transpose(1, 2)              # (1, N, C)
    cls = visual.class_embedding.to(tok.dtype).reshape(1, 1, -1)
    x = torch.cat([cls, tok], dim=1)
    x = x + _position_embedding(visual, gh, gw, x.shape[1]).to(x.dtype)
    x = visual.ln_pre(x)

    blocks = list(visual.transformer.resblocks)
    kk_maps, guides = [], []
    for blk in blocks[:-1]:
        q, k, v = _qkv(blk.attn, blk.ln_1(x))
        attn = _self_softmax(q, k)
        if attn_strategy == "refocus":
            attn = _redistribute(attn, refocus_threshold, refocus_beta)
        elif attn_strategy != "vanilla":
            raise ValueError(attn_strategy)
        kk_maps.append(_self_softmax(k, k))
        L = x.shape[1]
        mixed = (attn @ v).transpose(0, 1).reshape(1, L, -1)
        upd = blk.attn.out_proj(mixed)
        x = x + (blk.ls_1(upd) if hasattr(blk, "ls_1") else upd)
        ffn = blk.mlp(blk.ln_2(x))
        x = x + (blk.ls_2(ffn) if hasattr(blk, "ls_2") else ffn)
        x = _denoise(x, (gh, gw), distraction_dims, denoise_sigma, denoise_alpha)
        guides.append(x)

    last = blocks[-1]
    y = _denoise(last(x), (gh, gw), distraction_dims,
                 denoise_sigma, denoise_alpha)               # plain block
    guides.append(y)
    cls_vec = visual.ln_post(y[:, 0]) @ visual.proj                 # (1, D)
    if cls_only:
        return {"cls": cls_vec[0], "grid": (gh, gw)}

    G = torch.stack(guides).mean(dim=0)
    graph = _patch_graph(G[:, 1:], graph_cut)
    dec_a = _decode(last, _propagate(x, graph), kk_maps)
    dec_b = _decode(last, _propagate(G, graph), kk_maps)
    dense = visual.ln_post((dec_a + dec_b) / 2) @ visual.proj       # (N, D)
    return {"dense": dense, "cls": cls_vec[0], "grid": (gh, gw)}


@torch.no_grad()
def rfclip_window_logits(visual, img: torch.Tensor, text_emb: torch.Tensor, *,
                         h_threshold: float, mean_vector_weight: float,
                         global_semantics_weight: float,
                         whole_img: Optional[torch.Tensor] = None,
                         clusters: Optional[np.ndarray] = None,
                         topk: int = 2, attn_strategy: str = "vanilla",
                         refocus_threshold: float = 0.1, refocus_beta: float = 0.6,
                         distraction_dims: Sequence[int] = VITB16_DISTRACTION_DIMS,
                         denoise_sigma: float = 5.0, denoise_alpha: float = 0.4,
                         graph_cut: float = 0.4,
                         ) -> Dict[str, object]:
    """Per-pixel name logits (K, H, W) for ONE window (seg.py:160-195).

    ``clusters`` may be precomputed with :func:`cluster_names` (the authors do
    it once at construction, seg.py:68); otherwise it is computed here.
    """
    kw = dict(attn_strategy=attn_strategy, refocus_threshold=refocus_threshold,
              refocus_beta=refocus_beta, distraction_dims=distraction_dims,
              denoise_sigma=denoise_sigma, denoise_alpha=denoise_alpha,
              graph_cut=graph_cut)
    enc = encode_window(visual, img, **kw)
    feats = F.normalize(enc["dense"], dim=-1)                        # (N, D)
    Q = text_emb.to(feats.dtype)
    if whole_img is None:                                            # seg.py:171-172
        gvec = enc["cls"]
    else:                                                            # seg.py:173-176
        gvec = encode_window(visual, whole_img, cls_only=True, **kw)["cls"]
    g = F.normalize(gvec, dim=-1) @ Q.t()                            # (K,)

    if clusters is None:
        clusters = cluster_names(Q, h_threshold)
    T = Q.clone()
    g_np = g.detach().cpu().numpy()
    for cid in range(len(set(clusters.tolist()))):                   # seg.py:141
        members = np.flatnonzero(clusters == cid)
        best = int(members[np.argmax(g_np[members])])                # seg.py:107-110
        t = F.normalize(Q[best], dim=0)
        k = min(topk, feats.shape[0])
        top = torch.topk(feats @ t, k).indices                       # seg.py:112-120
        m = F.normalize(feats[top].mean(dim=0), dim=0)
        T[best] = F.normalize((1 - mean_vector_weight) * t + mean_vector_weight * m, dim=0)

    logits = feats @ T.t()                                           # (N, K)
    logits = (1 - global_semantics_weight) * logits + global_semantics_weight * g
    gh, gw = enc["grid"]
    logits = logits.t().reshape(1, -1, gh, gw)
    logits = F.interpolate(logits, size=img.shape[-2:], mode="bilinear",
                           align_corners=False)[0]
    return {"logits": logits, "dense": feats, "global_sim": g,
            "text_adjusted": T, "clusters": clusters}
