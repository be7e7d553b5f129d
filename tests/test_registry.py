"""A stock mmseg config that only adds ``custom_imports`` can name clipseg's modules."""
import subprocess
import sys

from .conftest import TINY_VIT


def test_custom_imports_register_into_mmseg(tmp_path):
    cfg = tmp_path / 'stock.py'
    cfg.write_text(
        "custom_imports = dict(imports=['clipseg'], allow_failed_imports=False)\n"
        f"model = dict(type='ZeroShotSegmentor', clip=dict(model_name='t', model_cfg={TINY_VIT!r}),\n"
        "             attention=dict(type='NACLIPAttention', std=3.0), class_names='a,b')\n")
    # Config.fromfile imports clipseg (custom_imports) before anything imports mmseg.models,
    # as mmseg's own tools do; with mmcv-lite that order is needed (see README).
    code = ("from mmengine.config import Config\n"
            f"cfg = Config.fromfile({str(cfg)!r})\n"
            "from mmseg.registry import MODELS\n"
            "from mmseg.utils import register_all_modules\n"
            "register_all_modules()\n"
            "m = MODELS.build(cfg.model)\n"
            "print(type(m).__name__, type(m.backbone.attention).__name__, m.backbone.attention.std)\n")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path,
                         env={'HF_HUB_OFFLINE': '1', 'PATH': '/usr/bin:/bin'})
    assert out.returncode == 0, out.stderr[-2000:]
    assert 'ZeroShotSegmentor NACLIPAttention 3.0' in out.stdout
