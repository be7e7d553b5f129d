"""A checkpoint carrying a pickle payload never runs, whatever path loads it."""
import os

import pytest
import torch

import clipseg
from clipseg.models.clip_loader import load_checkpoint_into
from clipseg.models.teachers import FOUNDBackground
from clipseg.safe_loading import UnsafeCheckpointError, allow_unsafe_loading, safe_load
from .conftest import TINY_VIT, write_tiny_config, write_tiny_dinoiser_config
from .test_tools.test_test_py import run


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
    from .test_models.test_text_classifier import _cached
    want = _cached(tmp_path)('cat,dog').queries
    (entry,) = tmp_path.glob('*.pt')
    marker = tmp_path / 'PAYLOAD_RAN'
    torch.save({'x': Payload(marker)}, entry)
    with pytest.warns(UserWarning, match='unreadable'):
        torch.testing.assert_close(_cached(tmp_path)('cat,dog').queries, want)
    assert not marker.exists()


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
    assert test.returncode != 0 and 'posix.system' in test.stderr and not marker.exists()
    from .test_tools.test_train_py import TRAIN_OVERRIDES
    train_cfg = write_tiny_dinoiser_config(
        tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_train448_imagenet.py', name='train.py',
        extra=TRAIN_OVERRIDES)
    train = run(['tools/train.py', str(train_cfg), '--resume', str(path), '--work-dir', str(tmp_path / 'tw'),
                 '--cfg-options', f'train_dataloader.dataset.data_root={voc_mini / "JPEGImages"}'])
    assert train.returncode != 0 and 'posix.system' in train.stderr and not marker.exists()


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
