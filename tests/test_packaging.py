"""The package works after a plain, non-editable install: configs ship inside it."""
import os
import subprocess
import sys

import pytest

import clipseg
from .conftest import REPO


def test_list_configs_and_models():
    assert 'naclip_vit-b16_openai_whole336_voc21' in clipseg.list_configs('naclip_*')
    models = clipseg.list_models()
    assert 'sclip_vit-b16_openai_slide336' in models and 'dinoiser_vit-b16_laion2b_slide448' in models
    assert not any(m.endswith('_voc21') or 'train' in m for m in models)
    assert not [m for m in models if m.startswith('denseclip_')]   # they need trained checkpoints
    import pytest
    with pytest.raises(FileNotFoundError, match="did you mean \\['sclip_vit-b16_openai_slide336'"):
        clipseg.init_model('sclip_vit-b16_openai_slide33')


def test_cli_lists_configs():
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    out = subprocess.run([sys.executable, '-m', 'clipseg.cli', 'list', 'clearclip_vit-l14_*', '--models'],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split() == [
        f'clearclip_vit-l14_{w}_slide336' for w in ('datacomp', 'laion2b', 'metaclip', 'openai')]


@pytest.mark.slow
def test_non_editable_install_resolves_config_names_from_anywhere(tmp_path):
    target = tmp_path / 'site'
    build = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
                            '--quiet', '--target', str(target), str(REPO)],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    assert (target / 'clipseg' / '.mim' / 'configs' / 'sclip').is_dir()
    script = ("import clipseg, clipseg.apis.configs as inf\n"
              "assert str(inf.CONFIG_ROOT).startswith(%r), inf.CONFIG_ROOT\n"
              "cfg = clipseg.apis.find_config('naclip_vit-b16_openai_whole336_voc21')\n"
              "print(cfg.model.test_cfg.mode, len(clipseg.list_configs()))\n") % str(target)
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    mode, count = out.stdout.splitlines()[-1].split()
    assert mode == 'whole' and int(count) == len(clipseg.list_configs())
