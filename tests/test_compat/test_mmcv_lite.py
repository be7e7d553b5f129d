import sys

import pytest
import torch

import clipseg  # noqa: F401
from clipseg.compat.mmcv_ops import TorchvisionOps, has_compiled_ops


def test_stand_in_ops_without_a_compiled_mmcv():
    ext = sys.modules.get('mmcv._ext')
    if has_compiled_ops():
        assert not isinstance(ext, TorchvisionOps)   # a full mmcv build: untouched
        return
    assert isinstance(ext, TorchvisionOps)           # mmcv-lite and the onedl fork
    import mmcv.ops
    keep = mmcv.ops.nms(torch.tensor([[0., 0., 2., 2.], [0., 0., 2., 2.1]]),
                        torch.tensor([0.5, 0.9]), 0.5)[1]
    assert keep.tolist() == [1]
    with pytest.raises(NotImplementedError, match="'nms_rotated' is not available"):
        ext.nms_rotated(torch.zeros(1, 5))


def test_safe_loading_stays_on(tmp_path):
    path = tmp_path / 'x.pt'
    torch.save({'f': print}, path)               # a global nobody allowed
    with pytest.raises(Exception, match='Unsupported global|weights_only'):
        torch.load(path, weights_only=True)
