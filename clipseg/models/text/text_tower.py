"""The text half of an open_clip model, sharing its modules: handed to whoever encodes text, so one
CLIP load serves the image adapter and the text side, and the model passed in is left untouched."""
from torch import Tensor, nn


class TextTower(nn.Module):
    """Holds every submodule, parameter and buffer of ``clip_model`` except ``visual`` (the same
    objects, not copies) and runs the model class's own ``encode_text`` on them:
    ``encode_text(tokens (N, L)) → (N, D)``. Works for ``CLIP`` and ``CustomTextCLIP`` alike."""

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

    def encode_text(self, tokens: Tensor, normalize: bool = False) -> Tensor:
        return self._encode_text(self, tokens, normalize=normalize)
