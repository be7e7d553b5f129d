"""CLIP-DINOiser (Wysoczańska et al., ECCV 2024) as a segmentor: a MaskCLIP ViT whose middle
block feeds ``DINOiserHead`` (``heads/dinoiser_head.py``), plus the training of that head from
DINO and FOUND teachers (``DINOiserTraining``)."""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn

from mmseg.registry import MODELS
from .trained_parts import TrainedParts
from .zero_shot import ZeroShotSegmentor


class DINOiserTraining:
    """Training mixin for a segmentor whose ``decode_head`` is a ``DINOiserHead``: targets from a
    DINO teacher (binarised patch correlations) and a FOUND-style background teacher, built on the
    first training step and never saved; CLIP and the teachers stay frozen."""

    # ----- training ----------------------------------------------------------------------------
    def teachers(self):
        if not self._teachers:
            from ..teachers import DINOTeacher, FOUNDBackground
            dino = DINOTeacher(**(self.teacher_cfg or {}))
            found = FOUNDBackground(**(self.background_cfg or {}))
            device = self.decode_head.obj_proj.weight.device
            self._teachers = [dino.to(device), found.to(device)]
            if self.teacher_cache_dir:
                from ..teachers.teacher_cache import TeacherCache, fingerprint
                key = fingerprint(dino, found, extra=f'{self.teacher_cfg}{self.background_cfg}'
                                                     f'{self.decode_head.gamma}')
                self.teacher_cache = TeacherCache(self.teacher_cache_dir, key)
        return self._teachers

    def teacher_targets(self, inputs: Tensor):
        """CLIP-normalised (B, 3, H, W) → DINO's binarised correlations (B, h*w, h, w) and FOUND's
        foreground (B, 1, h, w); with ``teacher_cache_dir``, cached crops skip the teachers."""
        self.teachers()
        if self.teacher_cache is None:
            return self._run_teachers(inputs)
        paths = self.teacher_cache.paths(inputs)
        cached = self.teacher_cache.lookup(paths, inputs.device)
        todo = [i for i, c in enumerate(cached) if c is None]
        if todo:
            corr, fg = self._run_teachers(inputs[todo])
            self.teacher_cache.store([paths[i] for i in todo], corr, fg)
            for j, i in enumerate(todo):
                cached[i] = (corr[j], fg[j])
        return torch.stack([c[0] for c in cached]), torch.stack([c[1] for c in cached])

    def _run_teachers(self, inputs: Tensor):
        """CLIP-normalised crops → DINO's correlations binarised at γ and FOUND's foreground map
        (on FOUND's own grid when it runs its own ViT, e.g. ViT-S/8)."""
        dino, found = self.teachers()
        pre = self.data_preprocessor                # undo the CLIP weights' own normalisation
        images = self.backbone.pad_to_patches(inputs) * pre.std.to(inputs) + pre.mean.to(inputs)
        out = dino(dino.normalise(images))
        corr = dino.correlations(out.feats)
        found_out = found.dino(found.dino.normalise(images)) if found.dino is not None else out
        return (corr >= self.decode_head.gamma).float(), found(found_out)

    def loss(self, inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        self.parts_ready = True
        hits_before = self.teacher_cache.hits if self.teacher_cache is not None else 0
        with torch.no_grad():
            mid, _ = self.backbone(inputs)
            dino_corr, foreground = self.teacher_targets(inputs)
        losses = self.decode_head.loss(mid.detach(), dino_corr, foreground)
        if self.teacher_cache is not None:  # logged by the Runner, not added to the loss
            hits = self.teacher_cache.hits - hits_before
            losses['teacher_cache_hits'] = inputs.new_tensor(hits / inputs.shape[0])
        return losses

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.train(False)
        return self


@MODELS.register_module()
class CLIPDINOiser(DINOiserTraining, TrainedParts, ZeroShotSegmentor):
    """MaskCLIP ViT + ``DINOiserHead`` reading block ``feats_idx``'s features (after ``ln_2``).

    Inference per window is one CLIP forward and the head's two convs (see ``DINOiserHead``).
    Training (``loss``): the head's BCE losses against the teachers' targets.
    Predicting needs trained heads (a checkpoint or a training step) unless ``allow_random_heads``.
    Checkpoints hold only the head, in the authors' key layout (``obj_proj.*``, ``bkg_decoder.*``).
    """
    trained_prefixes = ('decode_head.obj_proj.', 'decode_head.bkg_decoder.')
    parts_name = 'heads (obj_proj, bkg_decoder)'

    def __init__(self,
                 clip: dict = dict(model_name='ViT-B-16', pretrained='laion2b_s34b_b88k'),
                 feats_idx: int = -3,
                 proj_dim: int = 256,
                 gamma: float = 0.2,
                 delta: float = 0.99,
                 apply_background: bool = False,
                 teacher: Optional[dict] = None,
                 background_teacher: Optional[dict] = None,
                 teacher_cache_dir: Optional[str] = None,
                 allow_random_heads: bool = False,
                 **kwargs):
        kwargs.setdefault('attention', 'maskclip')
        kwargs['backbone_cfg'] = dict(kwargs.get('backbone_cfg') or {}, out_indices=(feats_idx,),
                                      tap='ln_2')
        kwargs['decode_head'] = dict(type='DINOiserHead', proj_dim=proj_dim, gamma=gamma,
                                     delta=delta, apply_background=apply_background)
        kwargs.setdefault('test_cfg', {})
        kwargs['test_cfg'] = dict(dict(mode='slide', crop_size=(448, 448),
                                       stride=(224, 224)), **kwargs['test_cfg'])
        super().__init__(clip=clip, **kwargs)
        self.teacher_cfg, self.background_cfg = teacher, background_teacher
        self.teacher_cache_dir = teacher_cache_dir
        self._teachers: List[nn.Module] = []  # built on first training step, never saved
        self.teacher_cache = None
        self.init_trained_parts(allow_random_heads)

    # ----- checkpoints hold only the heads -----------------------------------------------------
    def state_dict(self, *args, **kwargs):
        """Only the head's ``obj_proj`` and ``bkg_decoder``, under those names (the authors'
        layout, without ``decode_head.``): CLIP comes from its own weights."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get('prefix', '')
        keep = tuple(prefix + p for p in self.trained_prefixes)
        return type(full)((prefix + k[len(prefix + 'decode_head.'):], v)
                          for k, v in full.items() if k.startswith(keep))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Heads-only checkpoints: their keys must fit the heads exactly (else an error); frozen
        CLIP entries they lack keep their values."""
        saved = tuple(p[len('decode_head.'):] for p in self.trained_prefixes)
        for key in [k for k in state_dict if k.startswith(prefix)]:
            if key[len(prefix):].startswith(saved):     # the saved layout → the head's keys
                state_dict[prefix + 'decode_head.' + key[len(prefix):]] = state_dict.pop(key)
        self.check_checkpoint(state_dict, prefix)
        for name, value in nn.Module.state_dict(self, prefix=prefix).items():
            state_dict.setdefault(name, value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.parts_ready = True
