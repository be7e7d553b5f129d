"""Validate an open-vocabulary model on another dataset's classes than it trains on (OVSeg trains
on COCO-Stuff and validates on ADE20K: ov-seg ``ovseg_model.py:156, 258-262`` names each dataset's
classes)."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS


@HOOKS.register_module()
class ValClassesHook(Hook):
    """Before each validation (and test) the model's classes become ``classes`` (names, a
    comma-separated string or a names file, as ``set_classes`` takes them); after validation the
    training classes come back."""

    def __init__(self, classes):
        self.classes = classes
        self._training = None

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_val(self, runner) -> None:
        model = self._model(runner)
        self._training = list(model.class_names)
        model.set_classes(self.classes)

    def after_val(self, runner) -> None:
        if self._training is not None:
            self._model(runner).set_classes(self._training)
            self._training = None

    def before_test(self, runner) -> None:
        self._model(runner).set_classes(self.classes)
