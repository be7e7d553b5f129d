"""CASS (Kim et al., CVPR 2025): the spectral graph of DINO's keys, distilled into the key-key
attention of CLIP's last block, head by head (the complementary head found by spectra)."""
from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from .base import LastBlockAttention, qkv_heads
from .naclip import gaussian_neighbourhood

# the authors' DINO input: the CLIP-normalised crop un-normalised with ImageNet statistics (third
# std 0.255, their typo), quantised to 8 bits, made square, normalised with ImageNet statistics
# (cass_segmentor.py:78-81, 180-181; clip/model.py:107-112; dino/dino_attention.py:74-94)
IN_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IN_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
THEIR_STD = torch.tensor([0.229, 0.224, 0.255]).view(1, 3, 1, 1)


def top_eigenvalues(graphs: Tensor, k: int) -> Tensor:
    """(H, N, N) symmetric → (H, k) largest eigenvalues, descending, L2-normalised per head."""
    vals = torch.linalg.eigvalsh(graphs.double()).flip(-1)[:, :k]
    return F.normalize(vals, p=2, dim=1)


def spectral_distance(a: Tensor, b: Tensor) -> Tensor:
    """(H, k), (H, k) spectra → (H, H) 1-D Wasserstein distances of their L1-normalised values
    (CASS Eq. 3; ``clip/model.py:234-238, 388-399``)."""
    a, b = F.normalize(a, p=1, dim=-1).sort(-1).values, F.normalize(b, p=1, dim=-1).sort(-1).values
    return (a[:, None] - b[None]).abs().sum(-1)


def low_rank(graph: Tensor, rank: int, rescale: bool) -> Tensor:
    """(N, N) PSD graph → its rank-``rank`` approximation (the top eigenpairs; the authors' randomised
    ``svd_lowrank`` approximates the same), eigenvalues stretched from [s_min, s_max] to
    [s_min/2, 1.5 s_max] when ``rescale``, diagonal zeroed (``clip/model.py:205-220, 465-473``)."""
    vals, vecs = torch.linalg.eigh(graph.double())
    s, u = vals.flip(0)[:rank], vecs.flip(1)[:, :rank]
    if rescale:
        lo, hi = s.min(), s.max()
        s = (s - lo) / (hi - lo) * (1.5 * hi - 0.5 * lo) + 0.5 * lo
    out = (u * s) @ u.t()
    return out.fill_diagonal_(0)


def match_range(src: Tensor, like: Tensor) -> Tensor:
    """``src`` min-max rescaled to the range of ``like``."""
    return (src - src.min()) / (src.max() - src.min()) * (like.max() - like.min()) + like.min()


@MODELS.register_module()
class CASSAttention(LastBlockAttention):
    """CASS's last block: per head, the key-key graph k kᵀ·d^-½ of CLIP mixed with a rank-``rank``
    approximation of DINO's (its keys of the last block, bilinearly resized to CLIP's grid and
    range-matched to CLIP's keys); heads paired by the assignment that maximises the distance of
    their ``eigen`` top eigenvalues, mixed with weight w·``scale`` (w: that distance), then
    NACLIP's Gaussian prior (σ ``std``), softmax, values, output projection; no residual, no MLP.
    The first token is block L's plain CLS output (the global embedding CASS's text side uses).
    Needs a DINO proxy with CLIP's head count and head width (DINO ViT-B/8 for ViT-B/16)."""
    short_name = 'cass'
    tower = True
    guide = 'k'
    global_token = True
    keep_residual = keep_ffn = False

    def __init__(self, eigen: int = 20, rank: int = 10, scale: float = 10.0, std: float = 5.0,
                 rescale_singular: bool = True, authors_input: bool = True):
        super().__init__()
        self.eigen, self.rank, self.scale, self.std = int(eigen), int(rank), float(scale), float(std)
        self.rescale_singular, self.authors_input = bool(rescale_singular), bool(authors_input)
        self.in_mean = self.in_std = None

    def proxy_input(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) CLIP-normalised crops → DINO's input as the authors make it (see above);
        ``authors_input=False``: the crops correctly re-normalised for DINO, not squared."""
        if not self.authors_input:
            if self.in_mean is None:
                raise RuntimeError('CASSAttention needs the pixel statistics (set by the segmentor)')
            mean, std = self.in_mean.to(x.device), self.in_std.to(x.device)
            return ((x.float() * std + mean) / 255 - IN_MEAN.to(x.device)) / IN_STD.to(x.device)
        u = x.float() * THEIR_STD.to(x.device) + IN_MEAN.to(x.device)
        u8 = (u * 255).to(torch.uint8)                       # ToPILImage: mul(255).byte()
        H, W = x.shape[-2:]
        if H != W:                                           # PIL resize to a square, bicubic
            from PIL import Image
            side = min(H, W)
            u8 = torch.stack([torch.from_numpy(np.array(
                Image.fromarray(im.permute(1, 2, 0).cpu().numpy()).resize((side, side))))
                .permute(2, 0, 1) for im in u8]).to(x.device)
        return (u8.float() / 255 - IN_MEAN.to(x.device)) / IN_STD.to(x.device)

    def run_guided(self, visual: nn.Module, x: Tensor, grid: Tuple[int, int], guide: Tensor
                   ) -> Tuple[Tensor, Tuple[int, int]]:
        *blocks, last = visual.transformer.resblocks
        for block in blocks:
            x = block(x)
        cls = last(x)[:, :1]                                 # the global embedding's token
        q, k, v = qkv_heads(last, x)                         # (B, H, 1 + N, d)
        k, v = k[:, :, 1:], v[:, :, 1:]
        B, H, N, d = k.shape
        if guide.shape[1] != H * d:
            raise ValueError(f'CASS pairs heads: the proxy gives {guide.shape[1]} key channels, CLIP '
                             f'{H} heads × {d}; use a DINO with the same head layout (ViT-B/8 for B/16)')
        dk = F.interpolate(guide.float(), size=grid, mode='bilinear', align_corners=False)
        dk = dk.view(B, H, d, N).transpose(2, 3).to(k.dtype)  # (B, H, N, d) on CLIP's grid
        prior = gaussian_neighbourhood(grid, self.std, prefix=0).to(k.device, k.dtype)
        out = []
        for b in range(B):
            kb, db = k[b], match_range(dk[b], k[b])          # global min/max over heads and tokens
            clip_g = kb @ kb.transpose(1, 2) * d ** -0.5     # (H, N, N) key-key graphs
            dino_g = db @ db.transpose(1, 2) * d ** -0.5
            cost = (1 - spectral_distance(top_eigenvalues(dino_g, self.eigen),     # float32 as
                                          top_eigenvalues(clip_g, self.eigen))).float()  # theirs
            from scipy.optimize import linear_sum_assignment
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            mixed = []
            for i, j in zip(rows.tolist(), cols.tolist()):   # CLIP head i with DINO head j, as theirs
                w = (1 - cost[i, j]).double() * self.scale
                g = match_range(low_rank(dino_g[j], self.rank, self.rescale_singular), clip_g[i])
                mixed.append(((w * g + clip_g[i]) / (w + 1)).to(kb.dtype))
            attn = torch.softmax(torch.stack(mixed) + prior, dim=-1)
            out.append((attn @ v[b]).transpose(0, 1).reshape(N, H * d))
        dense = last.attn.out_proj(torch.stack(out))
        return torch.cat([cls, dense], dim=1), grid
