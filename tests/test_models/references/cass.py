"""A written-out reference of CASS's test-time computation, in the authors' order of operations
(MICV-yonsei/CASS @228ecdd): cass_segmentor.py:78-81, 98-212 (DINO's input, text adjustment,
global mixing), clip/model.py:93-159 (the tower), 161-203 (positions, Gaussian window), 240-481
(the spectral attention). One deviation, as in clipseg: the rank-10 approximation by exact
eigendecomposition instead of the randomised ``torch.svd_lowrank`` (whose top 10 it estimates)."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import squareform

from .proxyclip import _dino_interpolated_pos, dino_tokens


def dino_input(z):
    """cass_segmentor.py:78-81 + clip/model.py:107-109 + dino_attention.py:74-90."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    u = z[0] * torch.tensor([0.229, 0.224, 0.255]).view(3, 1, 1) + mean
    pil = Image.fromarray(u.mul(255).byte().permute(1, 2, 0).numpy())
    side = min(z.shape[-2:])
    pil = pil.resize((side, side))
    t = torch.from_numpy(np.array(pil)).permute(2, 0, 1).float() / 255
    return ((t - mean) / torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1))[None]


def dino_keys(vit, img):
    """Keys of DINO's last block, CLS dropped → (heads, d, h, w)."""
    x, (h, w) = dino_tokens(vit, img, -1)
    attn = vit.blocks[-1].attn
    qkv = attn.qkv(vit.blocks[-1].norm1(x)).reshape(1, x.shape[1], 3, attn.num_heads, -1)
    k = qkv.permute(2, 0, 3, 1, 4)[1][0, :, 1:]                       # (heads, N, d)
    return k.permute(0, 2, 1).reshape(attn.num_heads, -1, h, w)


def gaussian_addition(n0, n1, std):
    """clip/model.py:180-203 (the window convolved with a delta per position)."""
    c = 1 / (std * math.sqrt(2))
    ks = [torch.linspace(-(d - 1) / 2.0 * c, (-(d - 1) / 2.0 + (d - 1)) * c, d)
          for d in (2 * n0 - 1, 2 * n1 - 1)]
    window = torch.exp(-(torch.stack(torch.meshgrid(*ks, indexing='ij')) ** 2).sum(0))
    m = torch.einsum('ij,kl->ijkl', torch.eye(n0), torch.eye(n1)).permute(0, 3, 1, 2).contiguous()
    out = F.conv2d(m.view(-1, n0, n1)[:, None], window[None, None], padding='same')[:, 0]
    return out.reshape(n0 * n1, n0 * n1)


def _range(src, like):
    return (src - src.min()) / (src.max() - src.min()) * (like.max() - like.min()) + like.min()


def cass_tower(visual, vit, crop, rescale=True, std=5.0):
    """clip/model.py:93-159 with custom_attn 'spectral' → (dense (N, E), global (E,))."""
    H, W = crop.shape[-2:]
    p = visual.conv1.stride[0]
    n0, n1 = H // p, W // p
    keys = dino_keys(vit, dino_input(crop))
    x = visual.conv1(crop).flatten(2).transpose(1, 2)
    x = torch.cat([visual.class_embedding.view(1, 1, -1), x], dim=1)
    x = x + _dino_interpolated_pos(visual.positional_embedding[None], n0, n1)
    x = visual.ln_pre(x)
    for blk in visual.transformer.resblocks[:-1]:
        x = blk(x)
    blk = visual.transformer.resblocks[-1]
    x_last = visual.ln_post(blk(x)[:, 0]) @ visual.proj
    x = blk.ln_1(x).transpose(0, 1)                                   # LND
    L, bsz, D = x.shape
    nh = blk.attn.num_heads
    hd = D // nh
    scale = hd ** -0.5
    q, k, v = F.linear(x, blk.attn.in_proj_weight, blk.attn.in_proj_bias).chunk(3, dim=-1)
    k = k.contiguous().view(-1, bsz * nh, hd).transpose(0, 1)[:, 1:]
    v = v.contiguous().view(-1, bsz * nh, hd).transpose(0, 1)[:, 1:]
    dk = F.interpolate(keys, size=(n0, n1), mode='bilinear', align_corners=False)
    dk = dk.reshape(nh, hd, n0 * n1).permute(0, 2, 1)
    dk = (dk - dk.min()) / (dk.max() - dk.min()) * (k.max() - k.min()) + k.min()
    a_c = torch.bmm(k, k.transpose(1, 2)) * scale
    a_d = torch.bmm(dk, dk.transpose(1, 2)) * scale

    def spectrum(adj):
        return F.normalize(torch.stack([torch.sort(torch.linalg.eigvalsh(a), descending=True)[0][:20]
                                        for a in adj.double()]), p=2, dim=1)
    ds, cs = spectrum(a_d), spectrum(a_c)
    cost = torch.zeros(nh, nh)
    for i in range(nh):
        for j in range(nh):
            u = torch.sort(F.normalize(ds[i][None], p=1, dim=-1))[0]
            w = torch.sort(F.normalize(cs[j][None], p=1, dim=-1))[0]
            cost[i, j] = 1 - torch.sum(torch.abs(u - w))
    rows, cols = linear_sum_assignment(cost.numpy())
    combined = torch.zeros_like(a_c)
    for idx in range(nh):
        i, j = rows[idx], cols[idx]
        w_d = 1 - cost[i, j]
        vals, vecs = torch.linalg.eigh(a_d[j].double())
        s, u = vals.flip(0)[:10], vecs.flip(1)[:, :10]
        if rescale:
            smin, smax = s.min(), s.max()
            s = (s - smin) / (smax - smin) * (1.5 * smax - 0.5 * smin) + 0.5 * smin
        approx = u @ torch.diag(s) @ u.T
        approx.fill_diagonal_(0)
        combined[idx] = (w_d * 10.0 * _range(approx, a_c[i]) + a_c[i]) / (w_d * 10.0 + 1)
    attn = F.softmax(combined + gaussian_addition(n0, n1, std)[None], dim=-1)
    out = torch.bmm(attn, v).transpose(0, 1).contiguous().view(-1, bsz, D)
    out = blk.attn.out_proj(out).transpose(0, 1)
    return (visual.ln_post(out) @ visual.proj)[0], x_last[0]


def cass_logits(dense, glob, text, gamma, alpha, threshold):
    """cass_segmentor.py:98-173, 185-212: ward clusters of the queries, the best of each nudged
    toward its top-2 patches, mixed with the global similarity → (Q, N)."""
    feats = F.normalize(dense, dim=-1)
    g = F.normalize(glob, dim=-1) @ text.t()
    t = text.double().numpy()
    dist = 1 - (t @ t.T) / np.outer(np.linalg.norm(t, axis=1), np.linalg.norm(t, axis=1))
    np.fill_diagonal(dist, 0)
    cluster = fcluster(linkage(squareform(np.clip(dist, 0, 2), checks=False), method='ward'),
                       t=threshold, criterion='distance') - 1
    adjusted = text.clone()
    for c in np.unique(cluster):
        members = np.nonzero(cluster == c)[0]
        best = int(members[int(torch.argmax(g[members]))])
        tv = F.normalize(text[best], dim=-1)
        top = torch.topk(feats @ tv, 2).indices
        m = F.normalize(feats[top].mean(0), dim=-1)
        adjusted[best] = F.normalize((1 - alpha) * tv + alpha * m, dim=-1)
    return ((1 - gamma) * feats @ adjusted.t() + gamma * g).t()
