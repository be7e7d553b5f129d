"""A written-out reference of ReCo's co-segmentation and inference, in the authors' order
(NoelShin/reco @5c5e1bc networks/reco.py): _get_text_attention (100-124), _get_context_weights
(127-137), _get_reference_image_feature (139-211, its column loop kept as written, or with
``exact=True`` the slice it means), _cosegment (213-291), __call__ (304-348)."""
import torch
import torch.nn.functional as F


def text_attention(dense, text, size, temperature=10.0):
    feats = dense / dense.norm(dim=1, keepdim=True)
    w = torch.sigmoid(temperature * torch.einsum('bchw,nc->bnhw', feats, text))
    return F.interpolate(w, size=size, mode='bilinear', align_corners=False)


def context_weights(features, context):
    return torch.sigmoid(torch.einsum('bchw,nc->bnhw', features / features.norm(dim=1, keepdim=True),
                                      context / context.norm(dim=1, keepdim=True)))


def reference(features, weights, exact=False):
    n_imgs, c, h, w = features.shape
    flat = features.permute(1, 0, 2, 3).flatten(start_dim=1).t()
    flat = flat / flat.norm(dim=-1, keepdim=True)
    adj = (flat @ flat.t()) * weights.flatten()[None]
    grid = torch.zeros(len(adj), n_imgs)
    start = 0
    for j in range(n_imgs):
        end = start + h * w
        grid[:, j] = torch.max(adj[:, start:end if exact else start + end], dim=1).values
        start = end
    avg = grid.mean(dim=1)
    seeds, start = [], 0
    for j in range(n_imgs):
        i = torch.argmax(avg[start:start + h * w]).item()
        start += h * w
        seeds.append(features[j, :, i // w, i % w])
    ref = torch.stack(seeds).mean(dim=0)
    return ref / ref.norm(dim=0, keepdim=True)


def cosegment(features, dense, text, context=None):
    weights = text_attention(dense, text[None], features.shape[-2:])[:, 0]
    if context is not None and len(context):
        cw = context_weights(features, context)
        for n in range(cw.shape[1]):
            weights = weights * (1 - cw[:, n])
    return reference(features, weights)


def infer(features, refs, dense, texts, size):
    dt = torch.einsum('bchw,nc->bnhw', features / features.norm(dim=1, keepdim=True), refs).sigmoid()
    dt = F.interpolate(dt, size=size, mode='bilinear', align_corners=False)
    return dt * text_attention(dense, texts, size)
