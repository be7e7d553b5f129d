"""PAMR accumulates neighbour by neighbour; the result is the stacked formula's (Eq. 3-4)."""
import torch
import torch.nn.functional as F

from clipseg.models.pamr import PAMR


def _reference(image, mask, num_iter, dilations):
    """PAMR written as a (B, C, P, H, W) stack of shifted copies per iteration."""
    def shifted(x, centre):
        H, W = x.shape[-2:]
        out = []
        for d in dilations:
            padded = F.pad(x, [d] * 4, mode='replicate')
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if dy == dx == 0 and not centre:
                        continue
                    out.append(padded[..., d + dy * d:d + dy * d + H, d + dx * d:d + dx * d + W])
        return torch.stack(out, dim=2)
    mask = F.interpolate(mask, size=image.shape[-2:], mode='bilinear', align_corners=True)
    std = shifted(image, True).std(dim=2, keepdim=True)
    diff = (shifted(image, False) - image.unsqueeze(2)).abs()
    affinity = F.softmax((-diff / (1e-8 + 0.1 * std)).mean(dim=1, keepdim=True), dim=2)
    for _ in range(num_iter):
        mask = (shifted(mask, False) * affinity).sum(dim=2)
    return mask


def test_pamr_equals_the_stacked_formula():
    torch.manual_seed(0)
    image = torch.rand(1, 3, 90, 120) * 255
    cosines = torch.randn(1, 7, 12, 15) * 0.1          # what NACLIP refines
    got = PAMR(10, (8, 16))(image, cosines)
    want = _reference(image, cosines, 10, (8, 16))
    assert got.shape == (1, 7, 90, 120)
    assert (got - want).abs().max() <= 1e-6
