"""Every image-tower family runs in the demo from a config and a local random checkpoint."""
import pytest
import torch
from PIL import Image

from clipseg.cli import main
from clipseg.models.clip.loader import create_clip
from ..conftest import TOWER_FAMILIES, write_tiny_config

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them

CONFIG = {'vit': 'configs/naclip/naclip_vit-l14_openai_slide336.py',
          'coca': 'configs/maskclip/maskclip_vit-b16_laion2b_slide336.py',
          'clipa': 'configs/sclip/sclip_vit-b16_datacomp_slide336.py',
          'resnet': 'configs/maskclip/maskclip_rn101_openai_slide336.py',
          'siglip': 'configs/sclip/sclip_vit-b16-siglip_webli_slide336.py',
          'eva02': 'configs/clearclip/clearclip_eva02-b16_merged2b_slide336.py',
          'convnext': 'configs/vanilla/vanilla_convnext-b_laion400m_slide336.py'}


@pytest.mark.parametrize('family', sorted(TOWER_FAMILIES))
def test_family_in_the_demo_with_a_local_checkpoint(family, tmp_path, voc_mini, capsys):
    torch.manual_seed(0)
    weights = tmp_path / 'weights.pt'
    torch.save(create_clip('tiny', None, TOWER_FAMILIES[family])[0].state_dict(), weights)
    config = write_tiny_config(tmp_path, CONFIG[family], model_cfg=TOWER_FAMILIES[family])
    out, labels = tmp_path / 'out.png', tmp_path / 'labels.png'
    image = voc_mini / 'JPEGImages' / '2011_000025.jpg'
    rc = main(['segment', str(image), '--classes', 'bus,car,road', '--config', str(config),
               '--weights', str(weights), '--templates', 'a_photo_of', '--out', str(out),
               '--label-map', str(labels)])
    assert rc == 0, capsys.readouterr().err
    assert Image.open(labels).size == Image.open(image).size
    assert Image.open(out).size[0] > Image.open(image).size[0]   # overlay + legend
