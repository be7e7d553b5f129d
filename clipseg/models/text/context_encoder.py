"""Context-aware prompting (DenseCLIP, Rao et al., CVPR 2022, Sec. 3.3): learnable context vectors
in front of each class name, through CLIP's frozen text tower."""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def name_tokens(tokenizer, class_names: Sequence[str], length: int) -> Tensor:
    """(K, length) ids of ``[SOT] name [EOT]`` zero-padded; a name that does not fit is an error."""
    if not hasattr(tokenizer, 'encode') or not hasattr(tokenizer, 'sot_token_id'):
        raise TypeError('context prompts need a CLIP BPE tokenizer (open_clip SimpleTokenizer)')
    out = torch.zeros(len(class_names), length, dtype=torch.long)
    for i, name in enumerate(class_names):
        ids = [tokenizer.sot_token_id, *tokenizer.encode(name), tokenizer.eot_token_id]
        if len(ids) > length:
            raise ValueError(f'class name {name!r} takes {len(ids)} tokens with start and end, more '
                             f'than name_length={length}: shorten it or raise name_length')
        out[i, :len(ids)] = torch.tensor(ids)
    return out


class ContextTextEncoder(nn.Module):
    """``forward()`` → (K, D) text embeddings of ``[SOT] ctx_1..ctx_n name [EOT]`` per class.

    The ``n_ctx`` context vectors (token-embedding width; DenseCLIP's init: randn, then
    trunc_normal_ with std 1) are the only trainable parameters; the text tower (token/positional
    embeddings, transformer, final LN and projection) stays frozen and receives no gradient. Each
    raw class name is tokenised as ``[SOT] name [EOT]`` in ``name_length`` tokens (DenseCLIP: 5,
    zero-padded), and a longer name is an error, as in the authors' ``tokenize``; sequences are
    ``n_ctx + name_length`` long.
    """

    def __init__(self, clip_model: nn.Module, tokenizer, class_names: Sequence[str],
                 n_ctx: int = 8, name_length: int = 5):
        super().__init__()
        if not class_names:
            raise ValueError('class list is empty: pass at least one class name')
        self.token_embedding = clip_model.token_embedding
        self.transformer = clip_model.transformer
        self.ln_final = clip_model.ln_final
        self.text_projection = clip_model.text_projection
        length = n_ctx + name_length
        self.register_buffer('positional_embedding', clip_model.positional_embedding[:length].detach().clone(),
                             persistent=False)
        self.register_buffer('attn_mask', torch.full((length, length), float('-inf')).triu_(1),
                             persistent=False)
        for module in (self.token_embedding, self.transformer, self.ln_final):
            module.requires_grad_(False)
        if isinstance(self.text_projection, nn.Parameter):
            self.text_projection.requires_grad_(False)
        width = self.token_embedding.weight.shape[1]
        self.contexts = nn.Parameter(torch.randn(1, n_ctx, width))
        nn.init.trunc_normal_(self.contexts)  # std 1, cut at ±2, as DenseCLIP
        self.register_buffer('tokens', name_tokens(tokenizer, class_names, name_length), persistent=False)
        self.class_names: List[str] = list(class_names)

    def forward(self) -> Tensor:
        emb = self.token_embedding(self.tokens)                           # (K, L, W)
        K = emb.shape[0]
        ctx = self.contexts.expand(K, -1, -1)
        x = torch.cat([emb[:, :1], ctx, emb[:, 1:]], dim=1) + self.positional_embedding
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        eot = self.tokens.argmax(dim=-1) + ctx.shape[1]                   # EOT has the largest id
        x = x[torch.arange(K), eot]
        proj = self.text_projection
        return proj(x) if isinstance(proj, nn.Module) else x @ proj


def pixel_text_scores(visual: Tensor, text: Tensor) -> Tensor:
    """DenseCLIP Eq. 4: cosine similarity of every pixel embedding with every class embedding.

    visual (B, C, H, W), text (B, K, C) or (K, C) → (B, K, H, W)."""
    visual = F.normalize(visual, dim=1)
    text = F.normalize(text, dim=-1)
    if text.dim() == 2:
        return torch.einsum('bchw,kc->bkhw', visual, text)
    return torch.einsum('bchw,bkc->bkhw', visual, text)


def context_aware_scores(prompt: nn.Module, context_decoder: nn.Module, global_feat: Tensor,
                         dense: Tensor) -> Tuple[Tensor, Tensor]:
    """DenseCLIP Eq. 4-6: the prompts' text (K, C), refined by the context decoder against the
    visual tokens [global (B, C); dense (B, C, h, w)] → text (B, K, C) and cosine scores
    (B, K, h, w)."""
    B, C = dense.shape[:2]
    text = prompt().unsqueeze(0).expand(B, -1, -1)
    visual = torch.cat([global_feat.reshape(B, 1, C), dense.flatten(2).transpose(1, 2)], dim=1)
    text = context_decoder(text, visual)
    return text, pixel_text_scores(dense, text)
