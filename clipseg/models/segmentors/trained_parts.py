"""Segmentors with trained parts (CLIP-DINOiser heads, DenseCLIP) refuse to predict with random
ones, and refuse checkpoints whose keys or shapes do not fit those parts."""
from typing import Iterable, Optional, Tuple

from torch import nn


class TrainedParts:
    """Mixin for an ``nn.Module`` segmentor.

    ``trained_prefixes``: state-dict prefixes of the trained parts (``None``: the whole model).
    ``parts_ready`` turns true when a fitting checkpoint is loaded or a training step runs;
    ``allow_random_heads=True`` is the explicit opt-out for experiments with untrained parts.
    """
    trained_prefixes: Optional[Tuple[str, ...]] = None
    parts_name = 'trained parts'

    def init_trained_parts(self, allow_random_heads: bool) -> None:
        self.allow_random_heads = allow_random_heads
        self.parts_ready = False

    def _trained(self, state: dict, prefix: str) -> dict:
        """The entries of ``state`` that belong to the trained parts."""
        if self.trained_prefixes is None:
            return state
        keep = tuple(prefix + p for p in self.trained_prefixes)
        return {k: v for k, v in state.items() if k.startswith(keep)}

    def check_checkpoint(self, state_dict: dict, prefix: str) -> None:
        """Raise unless ``state_dict`` holds exactly our trained parts, with our shapes."""
        given = {k: v for k, v in state_dict.items() if k.startswith(prefix)}
        everything = nn.Module.state_dict(self, prefix=prefix)
        own = self._trained(everything, prefix)
        name = type(self).__name__
        missing = sorted(set(own) - set(given))
        unexpected = sorted(set(given) - set(everything))
        if not set(own) & set(given):
            raise ValueError(f'checkpoint holds none of {name}\'s {self.parts_name} '
                             f'(e.g. {sorted(own)[:2]}; it has e.g. {sorted(given)[:3]}): is it a '
                             'checkpoint of another model?')
        wrong = [k for k in own if k in given and tuple(given[k].shape) != tuple(own[k].shape)]
        problems = _describe(missing, 'missing') + _describe(unexpected, 'unexpected')
        if wrong:
            k = wrong[0]
            problems.append(f'{len(wrong)} shape mismatches (e.g. {k}: checkpoint '
                            f'{tuple(given[k].shape)} vs model {tuple(own[k].shape)})')
        if problems:
            raise ValueError(f'checkpoint does not fit {name}: ' + '; '.join(problems)
                             + '. Was it trained with another config?')

    def check_parts_ready(self) -> None:
        if not (self.parts_ready or self.allow_random_heads):
            raise RuntimeError(
                f'{type(self).__name__}\'s {self.parts_name} were neither loaded nor trained: '
                'pass a trained checkpoint (--checkpoint / init_model(checkpoint=...) / load_from), '
                'or run them untrained on purpose (--random-heads on the command line, '
                'model.allow_random_heads=True in a config).')


def _describe(keys: Iterable[str], what: str) -> list:
    keys = list(keys)
    return [f'{len(keys)} {what} keys (e.g. {keys[:3]})'] if keys else []
