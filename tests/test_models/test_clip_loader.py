import pytest
import torch

from clipseg.models.clip_loader import WeightsUnavailableError, create_clip
from ..conftest import TINY_RN, TINY_VIT


def test_offline_tag_fails_at_once_with_clear_message(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HOME', '/nonexistent-hf-home')
    with pytest.raises(WeightsUnavailableError, match="'ViT-B-16'.*local file"):
        create_clip('ViT-B-16', 'laion2b_s34b_b88k')


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown open_clip model name 'ViT-B-61'"):
        create_clip('ViT-B-61', None)


def test_unknown_tag_lists_known_ones():
    with pytest.raises(ValueError, match='known tags'):
        create_clip('ViT-B-16', 'not_a_tag')


def test_local_checkpoint_roundtrip(tiny_ckpt):
    model, _ = create_clip('tiny', str(tiny_ckpt), model_cfg=TINY_VIT)
    state = torch.load(tiny_ckpt, weights_only=True)
    torch.testing.assert_close(model.visual.proj, state['visual.proj'])


def test_checkpoint_of_wrong_architecture(tiny_ckpt):
    with pytest.raises(ValueError, match='does not fit CLIP model'):
        create_clip('tiny-rn', str(tiny_ckpt), model_cfg=TINY_RN)


def test_missing_and_corrupt_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        create_clip('tiny', str(tmp_path / 'none.pt'), model_cfg=TINY_VIT)
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='cannot read CLIP checkpoint'):
        create_clip('tiny', str(bad), model_cfg=TINY_VIT)


def test_offline_hf_hub_name_fails_at_once(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HOME', '/nonexistent-hf-home')
    with pytest.raises(WeightsUnavailableError, match='hf-hub:laion/nothing-here'):
        create_clip('ViT-B-16', 'hf-hub:laion/nothing-here')
