"""A checkpoint carrying a pickle payload never runs, whatever path loads it."""
import os

import pytest
import torch

import clipseg
from clipseg.models.clip.loader import load_checkpoint_into
from clipseg.models.teachers import FOUNDBackground
from clipseg.compat.safe_loading import UnsafeCheckpointError, allow_unsafe_loading, safe_load
from ..conftest import TINY_VIT, write_tiny_config, write_tiny_dinoiser_config
from ..test_tools.test_test_py import run


class Payload:
    """Unpickling calls os.system, which creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


@pytest.fixture
def evil(tmp_path):
    """A Runner-shaped checkpoint with a payload; returns (path, marker)."""
    marker = tmp_path / 'PAYLOAD_RAN'
    path = tmp_path / 'evil.pth'
    torch.save({'meta': Payload(marker), 'state_dict': {'obj_proj.weight': torch.zeros(1)}}, path)
    return path, marker


def _refused(fn, marker):
    with pytest.raises(UnsafeCheckpointError, match=r'refusing to load .*posix\.system.*--unsafe-load'):
        fn()
    assert not marker.exists()


def test_library_load_paths_refuse_the_payload(evil, tmp_path):
    path, marker = evil
    _refused(lambda: safe_load(path), marker)
    from mmengine.runner.checkpoint import _load_checkpoint       # load_from, --resume, test.py
    _refused(lambda: _load_checkpoint(str(path), map_location='cpu'), marker)
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    _refused(lambda: clipseg.init_model(str(cfg), checkpoint=str(path)), marker)
    import open_clip
    # CLIP weights and FOUND head files go through torch's weights_only loading
    with pytest.raises(ValueError, match='cannot read CLIP checkpoint'):
        load_checkpoint_into(open_clip.CLIP(**TINY_VIT), str(path), 'tiny')
    with pytest.raises(Exception, match='posix.system|Unsupported global'):
        FOUNDBackground(head=str(path))
    assert not marker.exists()


def test_text_cache_file_with_a_payload_is_recomputed_not_run(tmp_path):
    from ..test_models.test_text_classifier import _cached
    want = _cached(tmp_path)('cat,dog').queries
    (entry,) = tmp_path.glob('*.pt')
    marker = tmp_path / 'PAYLOAD_RAN'
    torch.save({'x': Payload(marker)}, entry)
    with pytest.warns(UserWarning, match='unreadable'):
        torch.testing.assert_close(_cached(tmp_path)('cat,dog').queries, want)
    assert not marker.exists()


@pytest.mark.slow
def test_command_line_tools_refuse_the_payload(evil, tmp_path, tiny_ckpt, voc_mini):
    path, marker = evil
    img = voc_mini / 'JPEGImages' / '2011_000025.jpg'
    cfg = write_tiny_dinoiser_config(tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_slide448.py')
    demo = run(['demo/image_demo.py', str(img), '--classes', 'bus,car', '--config', str(cfg),
                '--checkpoint', str(path), '--out', str(tmp_path / 'o.png')])
    assert demo.returncode == 2 and 'posix.system' in demo.stderr and not marker.exists()
    assert not (tmp_path / 'o.png').exists()
    test_cfg = write_tiny_config(tmp_path, 'configs/sclip/sclip_vit-b16_openai_slide336_voc21.py')
    test = run(['tools/test.py', str(test_cfg), '--weights', str(tiny_ckpt), '--checkpoint', str(path),
                '--data-root', str(voc_mini), '--work-dir', str(tmp_path / 'wd')])
    assert test.returncode == 2 and 'posix.system' in test.stderr and not marker.exists()
    assert 'Traceback' not in test.stderr and test.stderr.strip().count('\n') == 0, test.stderr
    from ..test_tools.test_train_py import TRAIN_OVERRIDES
    train_cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_train448_imagenet.py', name='train.py',
        extra=TRAIN_OVERRIDES)
    train = run(['tools/train.py', str(train_cfg), '--resume', str(path), '--work-dir', str(tmp_path / 'tw'),
                 '--cfg-options', f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'])
    assert train.returncode == 2 and 'posix.system' in train.stderr and not marker.exists()
    assert 'Traceback' not in train.stderr, train.stderr
    url = 'https://example.invalid/work/iter_4.pth'                    # --resume URL, cached copy
    from clipseg.compat.safe_loading import url_cache_path
    home = tmp_path / 'torch_home'
    os.makedirs(home / 'hub' / 'checkpoints')
    import shutil
    shutil.copy(path, home / 'hub' / 'checkpoints' / os.path.basename(url_cache_path(url)))
    train = run(['tools/train.py', str(train_cfg), '--resume', url, '--work-dir', str(tmp_path / 'tw2'),
                 '--cfg-options', f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'],
                extra_env={'TORCH_HOME': str(home)})
    assert train.returncode == 2 and 'posix.system' in train.stderr and not marker.exists()


def test_the_opt_in_is_explicit_and_works(evil):
    path, marker = evil
    with pytest.warns(UserWarning, match='UNSAFE'):
        allow_unsafe_loading()
    try:
        safe_load(path)
    finally:
        allow_unsafe_loading(False)
    assert marker.exists()                               # the opt-in really loads full pickle
    marker.unlink()
    _refused(lambda: safe_load(path), marker)


def test_runner_checkpoint_types_load_without_the_opt_in(tmp_path):
    from mmengine.logging import MessageHub
    import numpy as np
    hub = MessageHub.get_instance('safe_loading_test')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('iter', 3)
    state = {'message_hub': hub.state_dict(), 'meta': {'seed': np.int64(7), 'arr': np.arange(3)},
             'state_dict': {'w': torch.ones(2)}}
    torch.save(state, tmp_path / 'runner.pth')
    back = safe_load(tmp_path / 'runner.pth')
    assert back['message_hub']['log_scalars']['train/loss'].mean() == 0.5
    assert back['meta']['seed'] == 7 and back['meta']['arr'].tolist() == [0, 1, 2]


def _planted(url, payload):
    """Put a payload where the hub cache keeps ``url``'s download (a poisoned cache)."""
    from clipseg.compat.safe_loading import url_cache_path
    path = url_cache_path(url)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(payload, path)
    return path


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    torch.hub.set_dir(str(tmp_path / 'torch_home' / 'hub'))
    yield tmp_path / 'torch_home' / 'hub'
    torch.hub.set_dir(os.path.join(os.path.expanduser('~'), '.cache', 'torch', 'hub'))


def test_every_remote_scheme_goes_through_the_safe_loader(hub_dir, tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint, get_torchvision_models
    marker = tmp_path / 'PAYLOAD_RAN'
    evil = {'state_dict': {'w': torch.zeros(1)}, 'meta': Payload(marker)}
    url = 'https://example.invalid/ckpts/model_final.pth'
    _planted(url, evil)
    _refused(lambda: _load_checkpoint(url, map_location='cpu'), marker)           # --checkpoint URL
    _planted(get_torchvision_models()['resnet50'], evil)
    _refused(lambda: _load_checkpoint('torchvision://resnet50', map_location='cpu'), marker)
    _refused(lambda: _load_checkpoint('modelzoo://resnet50', map_location='cpu'), marker)
    good = 'http://example.invalid/ok.pth'
    _planted(good, {'state_dict': {'w': torch.ones(2)}})
    assert _load_checkpoint(good, map_location='cpu')['state_dict']['w'].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match='pavi:// scheme is not supported'):
        _load_checkpoint('pavi://some/model.pth')
    with pytest.raises(OSError, match='cannot download checkpoint .*local file'):
        _load_checkpoint('http://127.0.0.1:9/missing.pth')                  # nothing listens
    assert not (hub_dir / 'checkpoints' / 'missing.pth').exists()


def test_the_environment_opt_in_warns_like_the_flag(evil, monkeypatch):
    import clipseg.compat.safe_loading as sl
    path, marker = evil
    monkeypatch.setenv(sl.UNSAFE_ENV, '1')
    monkeypatch.setattr(sl, '_env_warned', False)
    with pytest.warns(UserWarning, match=r'UNSAFE checkpoint loading is on \(CLIPSEG_UNSAFE_LOAD'):
        safe_load(path)
    assert marker.exists()


def test_safetensors_checkpoints_load_and_broken_ones_are_named(tmp_path):
    from safetensors.torch import save_file
    save_file({'w': torch.arange(3.0)}, str(tmp_path / 'heads.safetensors'))
    assert safe_load(tmp_path / 'heads.safetensors')['w'].tolist() == [0.0, 1.0, 2.0]
    from mmengine.runner.checkpoint import _load_checkpoint
    assert _load_checkpoint(str(tmp_path / 'heads.safetensors'))['w'].shape == (3,)
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00not json')
    with pytest.raises(ValueError, match=r"cannot read .*bad.safetensors' as a safetensors file"):
        safe_load(bad)
    with pytest.raises(ValueError, match='cannot read CLIP checkpoint .* as safetensors'):
        import open_clip
        load_checkpoint_into(open_clip.CLIP(**TINY_VIT), str(bad), 'tiny')


def test_a_file_that_is_no_checkpoint_is_named_as_such(tmp_path):
    """Not a zip archive, not a pickle: said so, not reported as an unsafe pickle; a legacy
    (non-zip) torch.save file still loads."""
    bad = tmp_path / 'notes.pt'
    bad.write_bytes(b'this is a text file, not weights')
    with pytest.raises(ValueError, match='is not a PyTorch checkpoint') as err:
        safe_load(str(bad))
    assert not isinstance(err.value, UnsafeCheckpointError)
    legacy = tmp_path / 'legacy.pt'
    torch.save({'w': torch.ones(2)}, legacy, _use_new_zipfile_serialization=False)
    assert torch.equal(safe_load(str(legacy))['w'], torch.ones(2))
