"""ONNX export: onnxruntime's label maps equal PyTorch's on the voc_mini photos."""
import pytest
from ..conftest import write_tiny_config, write_tiny_dinoiser_config
from .test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them


def test_export_maskclip_and_dinoiser_and_check_with_onnxruntime(tmp_path, tiny_ckpt, voc_mini):
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    out = run(['tools/export.py', str(cfg), '--weights', str(tiny_ckpt), '--classes',
               'person,car,bus;coach,road', '--out', str(tmp_path / 'maskclip.onnx'),
               '--check', str(voc_mini / 'JPEGImages')])
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count('label agreement with PyTorch') == 3 and 'check: passed' in out.stdout
    assert (tmp_path / 'maskclip.onnx').stat().st_size > 100_000
    import json
    import onnx                                # the file says what it needs and what it returns
    meta = {p.key: json.loads(p.value) for p in onnx.load(str(tmp_path / 'maskclip.onnx')).metadata_props}
    assert meta['classes'] == ['person', 'car', 'bus', 'road'] and meta['color_order'] == 'RGB'
    assert len(meta['mean']) == len(meta['std']) == 3 and meta['config'] == 'tiny'
    assert meta['producer'].startswith('clipseg ') and isinstance(meta['dynamic'], bool)
    dino = write_tiny_dinoiser_config(tmp_path, 'configs/dinoiser/dinoiser_vit-b16_laion2b_slide448.py')
    out = run(['tools/export.py', str(dino), '--random-heads', '--classes', 'background,person,car',
               '--embeddings-input', '--out', str(tmp_path / 'dinoiser.onnx'),
               '--check', str(voc_mini / 'JPEGImages' / '2011_000003.jpg')])
    assert out.returncode == 0, out.stderr[-3000:]
    assert 'check: passed' in out.stdout


def test_export_with_no_classes_is_an_error_and_writes_nothing(tmp_path, tiny_ckpt):
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    out = run(['tools/export.py', str(cfg), '--weights', str(tiny_ckpt), '--classes', '',
               '--out', str(tmp_path / 'x.onnx')])
    assert out.returncode == 2 and 'class' in out.stderr and not (tmp_path / 'x.onnx').exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(('.tmp-', '.clipseg-tmp-'))]


def test_a_fixed_size_is_explained_without_torch_internals():
    from clipseg.apis.export import fixed_size_reason
    err = RuntimeError('Constraints violated (height, width)! For more information, run with '
                       'TORCH_LOGS="+dynamic".\n  - Not all values of height ...')
    reason = fixed_size_reason(err)
    assert 'TORCH_LOGS' not in reason and 'Constraints' not in reason and 'image size' in reason
    other = fixed_size_reason(ValueError('unsupported op foo. For more information, see X'))
    assert other.endswith('unsupported op foo.')


@pytest.mark.parametrize('variant', ['scclip', 'resclip', 'rfclip'])
def test_whole_tower_methods_are_refused_by_name_and_nothing_written(tmp_path, variant):
    from clipseg.apis.export import export_onnx
    from ..conftest import SHALLOW_TOWER_VARIANTS, tiny_segmentor
    seg = tiny_segmentor(SHALLOW_TOWER_VARIANTS[variant], classes='cat,dog')
    with pytest.raises(ValueError, match='cannot be exported to ONNX'):
        export_onnx(seg, str(tmp_path / 'x.onnx'), (64, 96))
    assert not (tmp_path / 'x.onnx').exists()
