"""What both image-tower adapters share: holding an open_clip tower, frozen or trainable."""
from mmengine.model import BaseModule
from torch import nn


class CLIPTowerAdapter(BaseModule):
    """Keeps ``visual`` (an open_clip image tower). A frozen tower gets no gradients and stays in
    eval mode when the model trains; its weights come from open_clip, never from ``init_weights``."""

    def __init__(self, visual: nn.Module, frozen: bool, init_cfg=None):
        super().__init__(init_cfg)
        self.visual = visual
        self.frozen = frozen
        if frozen:
            self.visual.requires_grad_(False)

    def init_weights(self):
        """CLIP weights come from open_clip; added layers keep PyTorch's initialisation."""

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.visual.eval()
        return self
