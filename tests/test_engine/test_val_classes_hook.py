"""ValClassesHook: validation (and test) run with the validation dataset's classes, training gets
its own back."""
from types import SimpleNamespace

import torch

from clipseg.engine import ValClassesHook
from mmseg.registry import MODELS
from ..conftest import TINY_VIT


def test_classes_switch_for_validation_and_come_back():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='OVSegSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                              templates='a_photo_of', class_names='person,grass;lawn,sky'))
    runner = SimpleNamespace(model=model)
    hook = ValClassesHook('wall,floor')
    hook.before_val(runner)
    assert model.class_names == ['wall', 'floor'] and model.dataset_meta['classes'] == ['wall', 'floor']
    assert model.class_embeddings().num_classes == 2
    hook.after_val(runner)
    assert model.class_names == ['person', 'grass;lawn', 'sky']
    assert model.class_embeddings().num_classes == 3
    hook.before_test(runner)
    assert model.class_names == ['wall', 'floor']
