"""The text half of an open_clip model, sharing its modules: handed to whoever encodes text, so one
CLIP load serves the image adapter and the text side, and the model passed in is left untouched."""
from typing import Optional

import torch
from torch import Tensor, nn


class TextTower(nn.Module):
    """Holds every submodule, parameter and buffer of ``clip_model`` except ``visual`` (the same
    objects, not copies) and runs the model class's own ``encode_text`` on them:
    ``encode_text(tokens (N, L)) → (N, D)``. Works for ``CLIP`` and ``CustomTextCLIP`` alike.

    With a causal text attention (CLIP's) and pooling at the end-of-text token, the tokens after
    the batch's last end-of-text token cannot change the pooled features: ``encode_text`` then
    runs only up to it (``used_length``), the same computation as open_clip's ``CLIP.encode_text``
    on fewer positions. Towers without a causal mask (SigLIP-style) run the full context."""

    def __init__(self, clip_model: nn.Module):
        super().__init__()
        self._encode_text = type(clip_model).encode_text
        for name, module in clip_model.named_children():
            if name != 'visual':
                self.add_module(name, module)
        for name, param in clip_model.named_parameters(recurse=False):
            self.register_parameter(name, param)
        for name, buf in clip_model.named_buffers(recurse=False):
            self.register_buffer(name, buf, persistent=name not in clip_model._non_persistent_buffers_set)
        for name, value in vars(clip_model).items():
            if not name.startswith('_') and name != 'training' and not isinstance(value, nn.Module):
                setattr(self, name, value)

    def used_length(self, tokens: Tensor) -> Optional[int]:
        """Positions up to the batch's last pooled token, or None where truncating could change
        the result (no causal mask, other pooling, not open_clip's native text tower)."""
        mask = getattr(self, 'attn_mask', None)
        pool = getattr(self, 'text_pool_type', None)
        if mask is None or not hasattr(self, 'token_embedding') or pool not in ('argmax', 'eos'):
            return None
        L = mask.shape[-1]
        if not bool(torch.isinf(mask[torch.triu(torch.ones(L, L, dtype=torch.bool), 1)]).all()):
            return None                                 # not causal
        if pool == 'argmax':
            ends = tokens.argmax(dim=-1)
        else:
            ends = (tokens == self.text_eos_id).int().argmax(dim=-1)
        return int(ends.max()) + 1

    def encode_text(self, tokens: Tensor, normalize: bool = False) -> Tensor:
        n = self.used_length(tokens)
        if n is None or n >= tokens.shape[1]:
            return self._encode_text(self, tokens, normalize=normalize)
        # open_clip's CLIP.encode_text on the first n positions (causal: identical features)
        from open_clip.transformer import text_global_pool
        cast = self.transformer.get_cast_dtype()
        tokens = tokens[:, :n]
        x = self.token_embedding(tokens).to(cast) + self.positional_embedding[:n].to(cast)
        x = self.ln_final(self.transformer(x, attn_mask=self.attn_mask[:n, :n]))
        x = text_global_pool(x, tokens, self.text_pool_type, eos_token_id=getattr(self, 'text_eos_id', None))
        if self.text_projection is not None:
            x = self.text_projection(x) if isinstance(self.text_projection, nn.Linear) \
                else x @ self.text_projection
        return torch.nn.functional.normalize(x, dim=-1) if normalize else x
