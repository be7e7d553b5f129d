import pytest
import json

from ..conftest import write_tiny_config
from .test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them


def test_reproduce_on_voc_mini_prints_the_table_and_names_missing_data(tmp_path, tiny_ckpt, voc_mini):
    data = tmp_path / 'data'
    (data / 'VOCdevkit').mkdir(parents=True)
    (data / 'VOCdevkit' / 'VOC2012').symlink_to(voc_mini)       # mmseg's VOC layout
    configs = [write_tiny_config(tmp_path, base, name=base.split('/')[-1]) for base in (
        'configs/sclip/sclip_vit-b16_openai_slide336_voc21.py',
        'configs/sclip/sclip_vit-b16_openai_slide336_context60.py')]
    out = run(['tools/reproduce.py', '--data', str(data), '--configs', *map(str, configs),
               '--weights', str(tiny_ckpt), '--work-dir', str(tmp_path / 'wd'),
               '--out', str(tmp_path / 'results.json')])
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'skipped sclip on context60: missing ' + str(data / 'VOCdevkit' / 'VOC2010') in out.stderr
    assert 'pascal_context.py' in out.stderr                    # how to prepare it
    lines = out.stdout.splitlines()
    row = next(line for line in lines if line.strip().startswith('voc21'))
    ours, paper, diff = map(float, row.split()[1:])
    assert paper == 59.63 and abs(ours - paper - diff) < 0.011
    report = json.loads((tmp_path / 'results.json').read_text())
    assert report['sclip']['voc21']['ours'] == ours and 'context60' not in report['sclip']
    assert len(repr(report['sclip']['voc21']['ours']).split('.')[-1]) <= 2   # no float32 noise


def test_reproduce_without_data_says_what_it_expected(tmp_path):
    out = run(['tools/reproduce.py', '--data', str(tmp_path / 'none'), '--methods', 'naclip,denseclip',
               '--datasets', 'voc21,cityscapes,ade20k150', '--work-dir', str(tmp_path / 'wd')])
    assert out.returncode == 2
    for arch in ('rn50', 'rn101', 'vit-b16'):     # trained: one row per backbone, never random heads
        assert f'skipped denseclip on ade20k150:{arch}: missing a trained checkpoint' in out.stderr
    assert f'missing {tmp_path / "none" / "VOCdevkit" / "VOC2012"}' in out.stderr
    assert f'missing {tmp_path / "none" / "cityscapes"}' in out.stderr
    assert 'nothing was evaluated' in out.stderr
