"""Plain-PyTorch reference of SC-CLIP's test-time computation (one window).

Written from a reading of the authors' repository (SuleBai/SC-CLIP); the code below is an
independent re-statement in plain loops, not a copy.  Citations are ``file:line`` there.

Input model: an open_clip ``VisionTransformer`` (open_clip >= 2.24: batch-first,
``nn.MultiheadAttention`` inside ``transformer.resblocks``).  NOTE: the OpenAI
CLIP weights use QuickGELU; build the open_clip model with
``force_quick_gelu=True`` (open_clip does this by itself for pretrained='openai')
or the MLPs of blocks 1..11 differ from the authors' ``clip/model.py:167-169``.

Per-window pipeline (``scclip_window_logits``):

 1. Patch embedding, CLS token, positional embedding (bicubic-resized with the
    DINO "+0.1" trick when the token count differs), ``ln_pre``
    (clip/model.py:255-265, 375-393).
 2. Blocks 1..L-1 run unchanged; every output (incl. CLS) is kept:
    ``hidden[i]`` = output of ``resblocks[i]``, i = 0..L-2
    (clip/model.py:268-271; ``feats_list``).
 3. Anomaly tokens: on the patch tokens of the output of block L-1
    (``hidden[L-2]``, the 11th block for ViT-B/16) a hand-written LOF is run
    (NOT sklearn): squared Euclidean distances, k = 30 neighbours, score =
    LOF with reach-dist max(d_ij, k-dist(i)) (note: k-dist of the *query*
    point, not of the neighbour as in the textbook/sklearn LOF), outliers =
    scores strictly above the 0.95 linear quantile -> ~5 % of tokens
    (clip/model.py:208-227, 274).
 4. Flat index -> (row, col).  The authors use ``(k // n_rows, k % n_rows)``
    (clip/model.py:275; ``feat_w`` = conv output height = number of rows),
    which is the right mapping only when n_rows == n_cols.  ``index_mode``
    selects 'authors' (bit-exact, default) or 'correct' (k // n_cols, k % n_cols).
 5. Repair: every outlier position is replaced by the mean of its 8-neighbours
    that are inside the grid and not themselves outliers; with no such
    neighbour it is left unchanged (clip/model.py:348-373).  Applied to the
    block-(L-1) patch tokens (clip/model.py:276-278); the CLS token is dropped
    from the stream from here on and kept aside (clip/model.py:273).
 6. Pre-adjustment: cosine self-similarity S of the *repaired* patch tokens of
    ``hidden[pre_adjust_idx]`` (=8 -> output of the 9th block)
    (clip/model.py:280-285).  S is kept raw as ``mid`` (clip/model.py:286);
    a copy with entries < beta (0.4) zeroed, row-normalised (sum + 1e-6),
    aggregates the repaired tokens: X <- A_pre X (clip/model.py:287-288, 343-346).
 7. Last block, attention only (no residual, no FFN, no ln_2):
    Y = out_proj( ((softmax(M) + softmax(K K^T / sqrt(d_h))) / 2) V ) + res_cls * cls
    with M = 3 (mid - mean(mid)), entries < 0 set to -inf, shared by all heads;
    q is unused (clip/model.py:290-291, 318-341).
 8. Post-adjustment: cosine self-similarity of the (unrepaired) patch tokens of
    ``hidden[post_adjust_idx]`` (=3 -> 4th block), < beta zeroed,
    row-normalised; Y <- A_post Y (clip/model.py:293-297).
 9. Multi-level fusion: Ssum = sum_{i=multi_start_idx}^{multi_end_idx-1} hidden[i]
    (i = 3..9 -> blocks 4..10, CLS included, unrepaired); its patch tokens go
    through the same attention of the last block with the same ``mid``, plus
    res_cls * (summed CLS); then A_post aggregation; added to Y
    (clip/model.py:299-306).
10. ln_post, projection, for the patch tokens only (clip/model.py:308-310).
11. Segmentor: L2-normalise, cosine with the (normalised) text embeddings,
    reshape to (K, n_rows, n_cols), bilinear (align_corners=False) upsample to
    the window size (scclip_segmentor.py:70-82).

The window logits are raw cosines; the logit scale / softmax / synonym max /
area_thd / prob_thd come after the sliding-window average
(scclip_segmentor.py:86-131, 154-176) and and ``slide_logits`` below
is the stitching.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F


# --------------------------------------------------------------------------- #
# step 1: embeddings                                                          #
# --------------------------------------------------------------------------- #
def _positional_embedding(visual, n_rows: int, n_cols: int, n_tokens: int) -> torch.Tensor:
    """clip/model.py:261-264 and 375-393.

    The table is used as is when the token count matches (even if the grid
    shape differs, as the authors do); otherwise its square patch part is
    resized with bicubic interpolation by scale factors (n+0.1)/sqrt(N).
    """
    pos = visual.positional_embedding
    if n_tokens == pos.shape[0]:
        return pos
    n_old = pos.shape[0] - 1
    side = math.sqrt(n_old)
    grid = pos[1:].reshape(1, int(side), int(side), -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, scale_factor=((n_rows + 0.1) / side, (n_cols + 0.1) / side),
                         mode='bicubic')
    assert grid.shape[-2:] == (n_rows, n_cols)
    grid = grid.permute(0, 2, 3, 1).reshape(n_rows * n_cols, -1)
    return torch.cat([pos[:1], grid], dim=0)


def _embed(visual, image: torch.Tensor) -> Tuple[torch.Tensor, int, int]:
    feat = visual.conv1(image)                      # (1, C, rows, cols)
    n_rows, n_cols = feat.shape[-2:]
    tokens = feat.flatten(2).transpose(1, 2)        # row-major (1, rows*cols, C)
    cls = visual.class_embedding.reshape(1, 1, -1).to(tokens.dtype)
    tokens = torch.cat([cls.expand(tokens.shape[0], -1, -1), tokens], dim=1)
    tokens = tokens + _positional_embedding(visual, n_rows, n_cols, tokens.shape[1]).to(tokens.dtype)
    return visual.ln_pre(tokens), n_rows, n_cols


# --------------------------------------------------------------------------- #
# step 3: the authors' LOF variant                                            #
# --------------------------------------------------------------------------- #
def authors_lof(points: torch.Tensor, n_neighbors: int = 30, contamination: float = 0.05):
    """LOF as written in clip/model.py:208-227.

    d_ij = ||p_i - p_j||^2 (squared!), kNN by topk(k+1) minus the first (self),
    reach_ij = max(d_ij, kdist_i) (== kdist_i for every neighbour, so
    lrd_i = k / kdist_i), LOF_i = mean_j lrd_j / lrd_i over the kNN of i,
    outliers: LOF > quantile(LOF, 1 - contamination) (linear interpolation).
    Returns (flat outlier indices ascending, scores).
    """
    diff = points[:, None, :] - points[None, :, :]
    dist = diff.norm(p=2, dim=2) ** 2
    nn_dist, nn_idx = torch.topk(dist, k=n_neighbors + 1, largest=False)
    nn_dist, nn_idx = nn_dist[:, 1:], nn_idx[:, 1:]
    kdist = nn_dist[:, -1:]
    reach = torch.maximum(nn_dist, kdist.expand_as(nn_dist))
    lrd = n_neighbors / torch.nan_to_num(reach.mean(dim=1), nan=1e-6)
    scores = (lrd[nn_idx] / lrd[:, None]).mean(dim=1)
    thr = torch.quantile(scores.float(), 1.0 - contamination)
    return torch.nonzero(scores > thr).flatten(), scores


# --------------------------------------------------------------------------- #
# steps 4-5: index mapping and neighbour-mean repair                          #
# --------------------------------------------------------------------------- #
def outlier_positions(flat_idx: Sequence[int], n_rows: int, n_cols: int,
                      index_mode: str = 'authors') -> List[Tuple[int, int]]:
    """clip/model.py:275.  'authors': divisor = n_rows (their ``feat_w``)."""
    div = n_rows if index_mode == 'authors' else n_cols
    return [(int(k) // div, int(k) % div) for k in flat_idx]


def repair_grid(grid: torch.Tensor, positions: Sequence[Tuple[int, int]]) -> torch.Tensor:
    """clip/model.py:348-373, written as a loop.

    grid: (rows, cols, C).  Each listed position takes the mean of its
    8-neighbours that are in the grid and not listed; if none qualifies it is
    kept.  Raises IndexError for out-of-grid positions, as the authors'
    advanced indexing does (clip/model.py:357).
    """
    n_rows, n_cols = grid.shape[:2]
    for r, c in positions:
        if not (0 <= r < n_rows and 0 <= c < n_cols):
            raise IndexError(f'outlier position {(r, c)} outside the {n_rows}x{n_cols} grid')
    bad = set(positions)
    out = grid.clone()
    for r, c in bad:
        acc, cnt = torch.zeros_like(grid[0, 0]), 0
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if (dr or dc) and 0 <= rr < n_rows and 0 <= cc < n_cols and (rr, cc) not in bad:
                    acc = acc + grid[rr, cc]
                    cnt += 1
        if cnt:
            out[r, c] = acc / cnt
    return out


def _repair_tokens(tokens: torch.Tensor, positions, n_rows, n_cols) -> torch.Tensor:
    """tokens: (N, C) patch tokens in row-major order."""
    grid = tokens.reshape(n_rows, n_cols, -1)
    return repair_grid(grid, positions).reshape(n_rows * n_cols, -1)


# --------------------------------------------------------------------------- #
# steps 6-9                                                                   #
# --------------------------------------------------------------------------- #
def _cosine_affinity(tokens: torch.Tensor) -> torch.Tensor:
    t = tokens / tokens.norm(dim=-1, keepdim=True)
    return t @ t.T


def _aggregate(tokens: torch.Tensor, affinity: torch.Tensor, beta: float) -> torch.Tensor:
    """clip/model.py:287-288 / 296-297 and 343-346: zero entries < beta,
    divide each row by (row sum + 1e-6), mix tokens."""
    a = torch.where(affinity < beta, torch.zeros_like(affinity), affinity)
    a = a / (a.sum(dim=-1, keepdim=True) + 1e-6)
    return a @ tokens


def _self_calibrated_attention(block, x: torch.Tensor, mid: torch.Tensor) -> torch.Tensor:
    """clip/model.py:318-341 on ln_1-normalised tokens x: (N, C).

    (softmax(M) + softmax(k k^T * d^-0.5)) / 2 per head, M = 3 (mid - mean(mid))
    with negative entries -> -inf (same M for all heads); q is computed but not
    used; output projection applied.
    """
    attn = block.attn
    n, c = x.shape
    h = attn.num_heads
    d = c // h
    qkv = x @ attn.in_proj_weight.T + attn.in_proj_bias
    _, k, v = qkv.split(c, dim=-1)
    k = k.reshape(n, h, d).transpose(0, 1)          # (h, N, d)
    v = v.reshape(n, h, d).transpose(0, 1)
    m = 3.0 * (mid - mid.mean())
    m = m.masked_fill(m < 0, float('-inf'))
    prior = torch.softmax(m, dim=-1)                 # (N, N), same for every head
    kk = torch.softmax((k @ k.transpose(1, 2)) * d ** -0.5, dim=-1)
    weights = (prior.unsqueeze(0) + kk) / 2
    out = (weights @ v).transpose(0, 1).reshape(n, c)
    return attn.out_proj(out)


@torch.no_grad()
def scclip_dense_features(visual, image: torch.Tensor, *, beta: float = 0.4,
                          pre_adjust_idx: int = 8, post_adjust_idx: int = 3,
                          multi_start_idx: int = 3, multi_end_idx: int = 10,
                          res_cls: float = 0.3, lof_neighbors: int = 30,
                          lof_contamination: float = 0.05, index_mode: str = 'authors',
                          return_debug: bool = False):
    """Projected (un-normalised) patch features (n_rows*n_cols, D) of one window.

    image: (1, 3, H, W) CLIP-normalised.  Defaults = clip/model.py:247-252 and
    configs/base_config.py:4-8 (identical values).
    """
    assert image.shape[0] == 1, 'the authors squeeze the batch dim (clip/model.py:274)'
    x, n_rows, n_cols = _embed(visual, image)
    blocks = list(visual.transformer.resblocks)
    hidden = []
    for blk in blocks[:-1]:                          # clip/model.py:269-271
        x = blk(x)
        hidden.append(x[0])                           # (1+N, C)
    last_in = hidden[-1]
    cls_tok = last_in[:1]                             # clip/model.py:273
    flat, scores = authors_lof(last_in[1:], lof_neighbors, lof_contamination)
    pos = outlier_positions(flat.tolist(), n_rows, n_cols, index_mode)
    stream = _repair_tokens(last_in[1:], pos, n_rows, n_cols)          # step 5

    pre = _repair_tokens(hidden[pre_adjust_idx][1:], pos, n_rows, n_cols)
    mid = _cosine_affinity(pre)                                         # step 6
    stream = _aggregate(stream, mid, beta)

    last = blocks[-1]                                                   # step 7
    y = _self_calibrated_attention(last, last.ln_1(stream), mid) + res_cls * cls_tok

    post = _cosine_affinity(hidden[post_adjust_idx][1:])                # step 8
    y = _aggregate(y, post, beta)

    fused = torch.stack(hidden[multi_start_idx:multi_end_idx]).sum(0)  # step 9
    z = _self_calibrated_attention(last, last.ln_1(fused[1:]), mid) + res_cls * fused[:1]
    y = y + _aggregate(z, post, beta)

    feats = visual.ln_post(y) @ visual.proj                            # step 10
    if return_debug:
        return feats, dict(n_rows=n_rows, n_cols=n_cols, outliers=flat, positions=pos,
                           lof_scores=scores)
    return feats


@torch.no_grad()
def scclip_window_logits(visual, image: torch.Tensor, text_emb: torch.Tensor, **kw) -> torch.Tensor:
    """Per-pixel cosine logits (K, H, W) of one window (scclip_segmentor.py:66-84).

    text_emb: (K, D) already L2-normalised query embeddings (the authors average
    80 ImageNet templates, scclip_segmentor.py:42-51).
    """
    feats, dbg = scclip_dense_features(visual, image, return_debug=True, **kw)
    feats = feats / feats.norm(dim=-1, keepdim=True)
    logits = (feats @ text_emb.T).T.reshape(1, -1, dbg['n_rows'], dbg['n_cols'])
    logits = F.interpolate(logits, size=image.shape[-2:], mode='bilinear', align_corners=False)
    return logits[0]


# --------------------------------------------------------------------------- #
# harness (scclip_segmentor.py:86-188)                                        #
# --------------------------------------------------------------------------- #
@torch.no_grad()
def slide_logits(visual, image, text_emb, crop: int = 224, stride: int = 112,
                 out_size: Optional[Tuple[int, int]] = None, **kw) -> torch.Tensor:
    """Average of window logits over a crop/stride grid whose last window is
    pushed back inside the image; then bilinear resize to ``out_size`` (the
    original image size in the authors' harness).  Returns (K, h, w)."""
    _, _, h, w = image.shape
    rows = max(h - crop + stride - 1, 0) // stride + 1
    cols = max(w - crop + stride - 1, 0) // stride + 1
    acc = count = None
    for i in range(rows):
        for j in range(cols):
            y2, x2 = min(i * stride + crop, h), min(j * stride + crop, w)
            y1, x1 = max(y2 - crop, 0), max(x2 - crop, 0)
            win = scclip_window_logits(visual, image[:, :, y1:y2, x1:x2], text_emb, **kw)
            if acc is None:
                acc = image.new_zeros((win.shape[0], h, w))
                count = image.new_zeros((1, h, w))
            acc[:, y1:y2, x1:x2] += win
            count[:, y1:y2, x1:x2] += 1
    out = acc / count
    if out_size is not None:
        out = F.interpolate(out[None], size=tuple(out_size), mode='bilinear', align_corners=False)[0]
    return out
