"""DenseCLIP's training scripts never call ``model.init_weights()``
(raoyongming/DenseCLIP ``segmentation/train_denseclip.py:144-147``, ``detection/train.py:181-183``:
only the backbone and the text encoder, which load CLIP): the neck and heads keep the
initialisation they get when built (mmcv's ConvModule: Kaiming; plain convs and linears:
PyTorch's), not their ``init_cfg`` (FPN Xavier, N(0, 0.01) heads, RetinaNet's class prior)."""


class AuthorsInit:
    """Mixin for a model class: ``init_like_authors = True`` makes ``init_weights()`` keep every
    part as built (the CLIP parts load their weights when built); False: OpenMMLab's ``init_cfg``."""
    init_like_authors = False

    def init_weights(self):
        if self.init_like_authors:
            self._is_init = True
            return
        super().init_weights()
