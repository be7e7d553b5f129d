"""Training FOUND's decoder ourselves: the loss switches to self-training, and the checkpoint
serves as CLIP-DINOiser's background teacher."""
import pytest
import torch

from clipseg.models.teachers import DINOOutput, FOUNDBackground
from ..test_tools.test_test_py import run

SMALL8 = dict(model_name='vit_small_patch8_224.dino', pretrained=False,
              model_kwargs=dict(embed_dim=32, depth=2, num_heads=2))


def test_losses_switch_from_pseudo_labels_to_self_training():
    from mmseg.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(dict(type='FOUNDDecoder', dino=SMALL8, stop_bkg_loss=2)).train()
    x = torch.randn(2, 3, 64, 64)
    names = [set(model.loss(x)) for _ in range(3)]
    assert names == [{'loss_bkg'}, {'loss_bkg'}, {'loss_self'}] and int(model.steps) == 3
    assert set(model.state_dict()) == {'decoder.weight', 'decoder.bias', 'steps'}


@pytest.mark.slow
def test_train_with_tools_then_use_as_dinoiser_teacher(tmp_path, voc_mini):
    cfg = tmp_path / 'found.py'
    cfg.write_text(
        "_base_ = ['" + str(__import__('pathlib').Path(__file__).resolve().parents[2]
                          / 'configs/found/found_vit-s8_dino_train224_unlabelled.py') + "']\n"
        f"model = dict(dino={SMALL8!r}, stop_bkg_loss=2)\n"
        "train_pipeline = [dict(type='LoadImageFromFile'), dict(type='Resize', scale=(4096, 64), keep_ratio=True),\n"
        "    dict(type='RandomCrop', crop_size=(64, 64)), dict(type='PackSegInputs')]\n"
        "train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,\n"
        "                        dataset=dict(pipeline=train_pipeline))\n"
        "train_cfg = dict(max_iters=4)\n"
        "default_hooks = dict(checkpoint=dict(interval=4), logger=dict(interval=1))\n")
    out = run(['tools/train.py', str(cfg), '--work-dir', str(tmp_path / 'w'), '--cfg-options',
               f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'])
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-3000:]
    assert 'loss_bkg' in log and 'loss_self' in log
    found = FOUNDBackground(head=str(tmp_path / 'w' / 'iter_4.pth'), in_channels=32)
    from clipseg.compat.safe_loading import safe_load
    state = safe_load(tmp_path / 'w' / 'iter_4.pth')['state_dict']
    torch.testing.assert_close(found.head.weight, state['decoder.weight'])
    raw = torch.randn(1, 32, 5, 5)
    assert found(DINOOutput(raw, raw, torch.rand(1, 2, 25), raw)).shape == (1, 1, 5, 5)
