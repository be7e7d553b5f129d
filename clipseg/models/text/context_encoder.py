"""Context-aware prompting (DenseCLIP, Rao et al., CVPR 2022, Sec. 3.3): learnable context vectors
in front of each class name, through CLIP's frozen text tower."""
from typing import List, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ContextTextEncoder(nn.Module):
    """``forward()`` → (K, D) text embeddings of ``[SOT] ctx_1..ctx_n name [EOT]`` per class.

    The ``n_ctx`` context vectors (trunc-normal init, token-embedding width) are the only
    trainable parameters; the text tower (token/positional embeddings, transformer, final LN and
    projection) stays frozen and receives no gradient. Class names are tokenised to
    ``name_length`` tokens (DenseCLIP: 5), so sequences are ``n_ctx + name_length`` long.
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
        self.contexts = nn.Parameter(torch.empty(1, n_ctx, width))
        nn.init.trunc_normal_(self.contexts, std=0.02)
        tokens = tokenizer([f'{name}.' for name in class_names])[:, :name_length].clone()
        eot = tokenizer.eot_token_id if hasattr(tokenizer, 'eot_token_id') else int(tokens.max())
        no_eot = ~(tokens == eot).any(dim=1)
        tokens[no_eot, -1] = eot  # names longer than the budget are cut, keeping an EOT
        self.register_buffer('tokens', tokens, persistent=False)
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
