"""Models with trained parts refuse random ones and checkpoints that do not fit them."""
import pytest
import torch

import clipseg
from ..conftest import REPO, write_tiny_dinoiser_config, tiny_dinoiser


def test_dinoiser_without_heads_refuses_to_predict_unless_asked():
    seg = tiny_dinoiser(allow_random_heads=False).eval()
    with pytest.raises(RuntimeError, match=r'heads \(obj_proj, bkg_decoder\) were neither loaded '
                                           r'nor trained.*allow_random_heads=True'):
        seg.predict(torch.randn(1, 3, 64, 64))
    assert tiny_dinoiser(allow_random_heads=True).eval().predict(torch.randn(1, 3, 64, 64))


def test_heads_checkpoint_makes_it_ready_and_misfits_are_errors(tmp_path):
    trained = tiny_dinoiser()
    torch.save({'state_dict': trained.state_dict()}, tmp_path / 'heads.pth')
    cfg = write_tiny_dinoiser_config(tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_slide448.py')
    model = clipseg.init_model(str(cfg), checkpoint=str(tmp_path / 'heads.pth'))
    assert model.parts_ready
    assert clipseg.segment(model, torch.zeros(40, 50, 3, dtype=torch.uint8).numpy(),
                           classes='a,b')['label_map'].shape == (40, 50)
    with pytest.raises(RuntimeError, match='neither loaded nor trained'):
        clipseg.segment(clipseg.init_model(str(cfg)), torch.zeros(40, 50, 3).numpy(), classes='a,b')

    heads = trained.state_dict()
    cases = {
        'another model': ({'decode_head.conv_seg.weight': torch.zeros(3, 3)}, 'another model'),
        'missing key': ({k: v for k, v in heads.items() if 'bkg' not in k}, '2 missing keys'),
        'extra key': (dict(heads, **{'neck.weight': torch.zeros(1)}), '1 unexpected keys'),
        'wrong shape': (dict(heads, **{'obj_proj.weight': torch.zeros(8, 64, 3, 3)}),
                        'shape mismatches .*obj_proj.weight'),
    }
    for name, (state, msg) in cases.items():
        path = tmp_path / f'{name}.pth'
        torch.save({'state_dict': state}, path)
        with pytest.raises(ValueError, match=msg):
            clipseg.init_model(str(cfg), checkpoint=str(path))


def test_denseclip_without_weights_refuses_to_predict(tmp_path):
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(str(REPO / 'configs/denseclip/denseclip_fpn_tiny-rn_random_128x128_300it_synthetic.py'))
    model = MODELS.build(cfg.model).eval()
    with pytest.raises(RuntimeError, match='DenseCLIP.*neither loaded nor trained'):
        model.predict(torch.randn(1, 3, 64, 64))
    other = MODELS.build(cfg.model)
    other.load_state_dict(model.state_dict())
    assert other.parts_ready
    bad = {k: v for k, v in model.state_dict().items() if not k.startswith('decode_head.')}
    with pytest.raises(ValueError, match='missing keys'):
        MODELS.build(cfg.model).load_state_dict(bad, strict=False)
