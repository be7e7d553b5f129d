"""Keep torch's random state across ``--resume`` so dropout continues as in an unbroken run."""
import torch
from mmengine.hooks import Hook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Stores torch's CPU (and CUDA) RNG state in every checkpoint and puts it back right before the
    first iteration after a resume (after mmengine has skipped the already-seen batches).
    Validation is made neutral to the training stream (its data loader draws a seed from torch's
    RNG), so the state saved at a checkpoint is the state the next training iteration sees."""
    priority = 'VERY_LOW'

    def __init__(self):
        self._pending = None
        self._before_val = None

    @staticmethod
    def _state() -> dict:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        return state

    @staticmethod
    def _restore(state: dict) -> None:
        torch.set_rng_state(state['cpu'])
        if 'cuda' in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state['cuda'])

    def before_val(self, runner) -> None:
        self._before_val = self._state()

    def after_val(self, runner) -> None:
        if self._before_val is not None:
            self._restore(self._before_val)
            self._before_val = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = self._state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._pending = checkpoint.get('rng_state')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is not None:
            self._restore(self._pending)
            self._pending = None
