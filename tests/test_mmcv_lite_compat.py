import sys

import pytest
import torch

import clipseg  # noqa: F401
from clipseg.mmcv_lite_compat import _installed, _MissingOps


def test_placeholder_only_for_mmcv_lite():
    ext = sys.modules.get('mmcv._ext')
    if not _installed('mmcv-lite'):
        assert not isinstance(ext, _MissingOps)   # the onedl fork or a full mmcv: untouched
        return
    assert isinstance(ext, _MissingOps)
    import mmcv.ops
    with pytest.raises(RuntimeError, match="'nms' is not available"):
        mmcv.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)


def test_safe_loading_stays_on(tmp_path):
    path = tmp_path / 'x.pt'
    torch.save({'f': print}, path)               # a global nobody allowed
    with pytest.raises(Exception, match='Unsupported global|weights_only'):
        torch.load(path, weights_only=True)
