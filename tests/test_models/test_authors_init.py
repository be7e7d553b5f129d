"""DenseCLIP as its authors trained it: model.init_weights() leaves neck and heads as built."""
import math

import pytest
import torch

from clipseg.apis.inference import enter_world, load_config
from ..conftest import REPO

CONFIG = REPO / 'configs/denseclip/denseclip_retinanet_tiny-rn_random_128x128_synthetic.py'


@pytest.mark.parametrize('like_authors', [False, True])
def test_init_weights_keeps_heads_as_built_like_the_authors(like_authors):
    cfg = load_config(str(CONFIG), cfg_options={'model.init_like_authors': like_authors})
    torch.manual_seed(0)
    model = enter_world(cfg).build(cfg.model)
    built = {k: v.clone() for k, v in model.state_dict().items()}
    model.init_weights()
    bias = model.bbox_head.retina_cls.bias
    prior = -math.log((1 - 0.01) / 0.01)                  # RetinaNet's class prior, init_cfg
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, built[k])]
    if like_authors:
        assert not changed                               # everything exactly as built
    else:
        assert torch.allclose(bias, torch.full_like(bias, prior))
        assert any(k.startswith('neck.') for k in changed)
    assert load_config('denseclip_retinanet_rn50_openai_1x_coco').model.init_like_authors
    assert load_config('denseclip_retinanet_rn50_openai_1x_coco').sync_bn == 'torch'
