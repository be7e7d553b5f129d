"""CLIP-DINOiser (Wysoczańska et al., ECCV 2024): MaskCLIP features pooled with correlations that
two light convs on CLIP's own features learned from DINO, plus a learned background map."""
from typing import Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmseg.registry import MODELS
from ..text import ClassEmbeddings
from .trained_parts import TrainedParts
from .zero_shot import ZeroShotSegmentor


def correlation_pool(dense: Tensor, corr: Tensor, gamma: Optional[float]) -> Tensor:
    """CLIP-DINOiser Eq. 2: each patch's feature becomes the mean of all patches' features
    weighted by its correlations (those below ``gamma`` set to 0).

    dense (B, D, h, w), corr (B, h*w, h, w) → (B, D, h, w)."""
    if gamma is not None:
        corr = corr.masked_fill(corr < gamma, 0.0)
    B, D, h, w = dense.shape
    weights = corr.flatten(2)                                            # (B, N_i, N_j)
    pooled = torch.einsum('bij,bdj->bdi', weights, dense.flatten(2))
    pooled = pooled / (weights.sum(dim=-1).unsqueeze(1) + 1e-6)
    return pooled.reshape(B, D, h, w)


@MODELS.register_module()
class CLIPDINOiser(TrainedParts, ZeroShotSegmentor):
    """MaskCLIP ViT + ``obj_proj`` (3×3 conv, replicate padding, width → ``proj_dim``) and
    ``bkg_decoder`` (1×1 conv, width → 1) reading block ``feats_idx``'s features.

    Inference per window (one CLIP forward): correlations of the L2-normalised ``obj_proj``
    output, thresholded at ``gamma``, pool the MaskCLIP features; class probabilities are
    softmax(100 · cosine); with ``apply_background``, patches whose best probability is below
    ``delta`` and that the background head calls background go to class ``bg_idx``.
    Training (``loss``): BCE of the predicted correlations against DINO's binarised ones and of the
    background logits against the FOUND-style teacher; CLIP and the teachers stay frozen.
    Predicting needs trained heads (a checkpoint or a training step) unless ``allow_random_heads``.
    """
    grid_output = 'probabilities'  # softmax(100 · cosine) per window, as the authors' cls_seg
    trained_prefixes = ('obj_proj.', 'bkg_decoder.')
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
        kwargs.setdefault('test_cfg', {})
        kwargs['test_cfg'] = dict(dict(mode='slide', crop_size=(448, 448),
                                       stride=(224, 224)), **kwargs['test_cfg'])
        super().__init__(clip=clip, **kwargs)
        width = self.backbone.width
        self.obj_proj = nn.Conv2d(width, proj_dim, 3, padding=1, padding_mode='replicate')
        self.bkg_decoder = nn.Conv2d(width, 1, 1)
        self.gamma, self.delta, self.apply_background = gamma, delta, apply_background
        self.teacher_cfg, self.background_cfg = teacher, background_teacher
        self.teacher_cache_dir = teacher_cache_dir
        self._teachers: List[nn.Module] = []  # built on first training step, never saved
        self.teacher_cache = None
        self.init_trained_parts(allow_random_heads)

    # ----- the two heads -----------------------------------------------------------------------
    def heads(self, mid: Tensor):
        """(B, C, h, w) block features → (B, h*w, h, w) correlations, (B, 1, h, w) bkg logits."""
        proj = F.normalize(self.obj_proj(mid), dim=1).flatten(2)
        B, _, h, w = mid.shape
        corr = (proj.transpose(1, 2) @ proj).reshape(B, h * w, h, w)
        return corr, self.bkg_decoder(F.normalize(mid, dim=1))

    def grid_logits(self, crops: Tensor, emb: ClassEmbeddings) -> Tensor:
        """(N, 3, hc, wc) → (N, Q, gh, gw) query probabilities after pooling and background."""
        self.check_parts_ready()
        mid, dense = self.encode_crops(crops)
        corr, bkg = self.heads(mid)
        pooled = F.normalize(correlation_pool(dense, corr, self.gamma), dim=1)
        probs = F.softmax(100.0 * torch.einsum('ndhw,qd->nqhw', pooled, emb.queries.float()), dim=1)
        if self.apply_background:
            bg_query = int((emb.query_class == self.test_cfg['bg_idx']).nonzero()[0])
            foreground = torch.sigmoid(bkg[:, 0]) > 0.5
            uncertain = probs.max(dim=1).values < self.delta
            probs[:, bg_query][uncertain & ~foreground] = 1.0
        return probs

    # ----- training ----------------------------------------------------------------------------
    def teachers(self):
        if not self._teachers:
            from ..teachers import DINOTeacher, FOUNDBackground
            dino = DINOTeacher(**(self.teacher_cfg or {}))
            found = FOUNDBackground(**(self.background_cfg or {}))
            device = self.obj_proj.weight.device
            self._teachers = [dino.to(device), found.to(device)]
            if self.teacher_cache_dir:
                from ..teachers.teacher_cache import TeacherCache, fingerprint
                key = fingerprint(dino, found, extra=f'{self.teacher_cfg}{self.background_cfg}'
                                                     f'{self.gamma}')
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
        return (corr >= self.gamma).float(), found(found_out)

    def loss(self, inputs: Tensor, data_samples=None) -> Dict[str, Tensor]:
        self.parts_ready = True
        hits_before = self.teacher_cache.hits if self.teacher_cache is not None else 0
        with torch.no_grad():
            mid, _ = self.backbone(inputs)
            dino_corr, foreground = self.teacher_targets(inputs)
        corr, bkg = self.heads(mid.detach())
        if dino_corr.shape[-2:] != corr.shape[-2:]:
            raise ValueError(f'DINO grid {tuple(dino_corr.shape[-2:])} differs from CLIP grid '
                             f'{tuple(corr.shape[-2:])}: use teachers with the same patch size')
        # the authors' recipe: FOUND's map resized bilinearly to the CLIP grid, then > 0.5
        foreground = (F.interpolate(foreground, size=bkg.shape[-2:], mode='bilinear',
                                    align_corners=False, antialias=True) > 0.5).float()
        losses = dict(
            loss_corr=F.binary_cross_entropy_with_logits(corr.clamp(min=0), dino_corr),
            loss_bkg=F.binary_cross_entropy_with_logits(bkg, foreground))
        if self.teacher_cache is not None:  # logged by the Runner, not added to the loss
            hits = self.teacher_cache.hits - hits_before
            losses['teacher_cache_hits'] = corr.new_tensor(hits / inputs.shape[0])
        return losses

    def train(self, mode: bool = True):
        super().train(mode)
        self.text_encoder.train(False)
        return self

    # ----- checkpoints hold only the heads -----------------------------------------------------
    def state_dict(self, *args, **kwargs):
        """Only ``obj_proj`` and ``bkg_decoder``: CLIP comes from its own weights."""
        full = super().state_dict(*args, **kwargs)
        prefix = kwargs.get('prefix', '')
        keep = tuple(prefix + p for p in self.trained_prefixes)
        return type(full)((k, v) for k, v in full.items() if k.startswith(keep))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Heads-only checkpoints: their keys must fit the heads exactly (else an error); frozen
        CLIP entries they lack keep their values."""
        self.check_checkpoint(state_dict, prefix)
        for name, value in nn.Module.state_dict(self, prefix=prefix).items():
            state_dict.setdefault(name, value)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self.parts_ready = True
