"""tools/benchmark.py runs end to end and writes its report (no timing is asserted)."""
import pytest
import json
import sys

from ..conftest import REPO

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them


def test_benchmark_writes_main_and_options_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'tools'))
    sys.modules.pop('benchmark', None)
    import benchmark
    out = tmp_path / 'bench.json'
    assert benchmark.main(['--model', 'ViT-S-32', '--short', '64', '--crop', '64', '--stride', '32',
                           '--batch', '2', '--runs', '1', '--warmup', '0', '--sections',
                           'main,options', '--methods', 'maskclip,dinoiser', '--modes', 'slide',
                           '--skip-options', 'compile,fp16,channels-last', '--json', str(out)]) == 0
    report = json.loads(out.read_text())
    main = report['main']
    assert [(r['method'], r['batch']) for r in main] == [
        ('floor (open_clip visual)', 1), ('maskclip', 1), ('dinoiser', 1),
        ('floor (open_clip visual)', 2), ('maskclip', 2), ('dinoiser', 2)]
    assert all(r['windows'] == 2 * r['batch'] and r['ratio_to_floor'] > 0 for r in main)
    options = report['options_table']
    assert [(r['options'], r['method']) for r in options] == [
        (o, m) for o in ('fp32', 'bf16') for m in ('floor (open_clip visual)', 'maskclip', 'dinoiser')]
    assert all(r['speedup_vs_fp32_floor'] > 0 for r in options)


def test_benchmark_reports_the_proxy_share_of_a_guided_method(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'tools'))
    sys.modules.pop('benchmark', None)
    import benchmark
    out = tmp_path / 'bench.json'
    assert benchmark.main(['--model', 'ViT-S-32', '--short', '64', '--crop', '64', '--stride', '32',
                           '--batch', '1', '--runs', '1', '--warmup', '0', '--sections', 'main', '--methods',
                           'maskclip,proxyclip', '--modes', 'slide', '--json', str(out)]) == 0
    main = json.loads(out.read_text())['main']
    assert [r['method'] for r in main] == ['floor (open_clip visual)', 'maskclip', 'proxyclip']
    assert 'proxy_share' not in main[1] and 0 < main[2]['proxy_share'] < 1


def test_benchmark_onnx_section_reports_runtime_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'tools'))
    sys.modules.pop('benchmark', None)
    import benchmark
    out = tmp_path / 'bench.json'
    assert benchmark.main(['--model', 'ViT-S-32', '--short', '64', '--runs', '1', '--warmup', '0',
                           '--sections', 'onnx', '--json', str(out)]) == 0
    rows = json.loads(out.read_text())['onnx']
    assert [r['method'] for r in rows] == ['maskclip (PyTorch)', 'onnxruntime fp32',
                                           'onnxruntime int8 (dynamic)']
    assert rows[1]['label_agreement_vs_fp32'] == 1.0 and 0 < rows[2]['label_agreement_vs_fp32'] <= 1
    assert all(r['ratio_to_floor'] > 0 for r in rows)
