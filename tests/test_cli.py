"""The command line takes what it is given literally and refuses bad outputs before the work."""
import os

import cv2
import numpy as np
import pytest

import clipseg
from clipseg import cli
from clipseg.apis.inputs import expand_inputs
from clipseg.models.text import parse_classes
from .conftest import write_tiny_config

ANY_IMAGE = 'configs/maskclip/maskclip_vit-b16_openai_slide336.py'


def _image(path, shape=(40, 60, 3), seed=0):
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8))
    return path


def test_an_existing_path_is_literal_before_any_glob(tmp_path):
    literal = _image(tmp_path / 'img[1].jpg')
    _image(tmp_path / 'img1.jpg', seed=1)                  # what the glob 'img[1].jpg' matches
    assert expand_inputs(str(literal)) == [str(literal)]
    assert expand_inputs(str(tmp_path / 'im?1.jpg')) == [str(tmp_path / 'img1.jpg')]


def test_a_word_is_never_read_as_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'car').write_text('secret\nlines\n')
    assert parse_classes('car') == [['car']]
    assert parse_classes('car,bus') == [['car'], ['bus']]
    with pytest.raises(FileNotFoundError, match='names file not found'):
        parse_classes('names.txt')


def test_names_files_lose_their_bom(tmp_path):
    (tmp_path / 'names.txt').write_bytes('\ufeffcat\r\ndog;puppy\n'.encode('utf-8'))
    assert parse_classes(str(tmp_path / 'names.txt')) == [['cat'], ['dog', 'puppy']]
    assert parse_classes('\ufeffcat,dog') == [['cat'], ['dog']]
    args = cli.argparse.Namespace(classes=None, classes_file=str(tmp_path / 'names.txt'))
    assert cli.class_list(args) == ['cat', 'dog;puppy']


def test_bad_output_names_are_refused_before_the_work(tmp_path, monkeypatch, capsys):
    img = _image(tmp_path / 'a.jpg')
    monkeypatch.setattr(clipseg, 'init_model', lambda *a, **k: pytest.fail('model was built'))
    for out, extra in (('result', []), ('result.xyz', []), ('o.png', ['--label-map', 'l.jpg'])):
        rc = cli.main(['segment', str(img), '--classes', 'a,b', '--out', str(tmp_path / out), *extra])
        assert rc == 2
        err = capsys.readouterr().err
        assert err.startswith('error: ') and 'use one of' in err
    many = cli.main(['segment', str(tmp_path), '--classes', 'a,b', '--out', str(tmp_path / 'o.png')])
    assert many == 2 and 'give a folder' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['a.jpg']


def test_one_bad_image_does_not_sink_its_batch(tmp_path, tiny_ckpt, capsys):
    cfg = write_tiny_config(tmp_path, ANY_IMAGE)
    photos = tmp_path / 'photos'
    photos.mkdir()
    _image(photos / 'a.png', seed=1)
    _image(photos / 'b.png', shape=(1, 6000, 3))             # no row left after resizing
    _image(photos / 'c.png', shape=(2, 3000, 3), seed=2)     # thin: padded to a patch
    _image(photos / 'd.png', seed=3)
    rc = cli.main(['segment', str(photos), '--classes', 'cat,dog', '--config', str(cfg),
                   '--weights', str(tiny_ckpt), '--templates', 'a_photo_of', '--batch-size', '4',
                   '--out', str(tmp_path / 'out')])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert sorted(os.listdir(tmp_path / 'out')) == ['a.png', 'c.png', 'd.png']
    assert 'skipped' in captured.err and 'b.png' in captured.err and 'cannot be resized' in captured.err


def test_video_demo_takes_the_unsafe_flag_its_errors_advise(tmp_path, capsys):
    import importlib.util
    from clipseg.compat.safe_loading import allow_unsafe_loading
    spec = importlib.util.spec_from_file_location('video_demo', cli.__file__.replace(
        os.path.join('clipseg', 'cli.py'), os.path.join('demo', 'video_demo.py')))
    video_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(video_demo)
    try:
        with pytest.warns(UserWarning, match='UNSAFE'):
            rc = video_demo.main([str(tmp_path / 'missing.mp4'), '--classes', 'a', '--unsafe-load'])
    finally:
        allow_unsafe_loading(False)
    assert rc == 2 and 'cannot open video' in capsys.readouterr().err


def test_a_path_in_a_folder_is_a_names_file_only_if_it_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'names').write_text('cat\ndog\n')
    assert parse_classes('data/names') == [['cat'], ['dog']]
    assert parse_classes('bag/purse,car') == [['bag/purse'], ['car']]
    assert parse_classes('bag/purse') == [['bag/purse']]


def test_small_box_labels_stay_readable(monkeypatch):
    """mmdet sizes a label by its box (6 px text on a small box): the demo's drawing keeps every
    label at least 11 px, larger on a large picture."""
    pytest.importorskip('mmdet')
    from mmengine.visualization import Visualizer
    from clipseg.cli import draw_instances
    sizes = []
    original = Visualizer.draw_texts

    def spy(self, texts, positions, font_sizes=None, **kwargs):
        sizes.append(font_sizes)
        return original(self, texts, positions, font_sizes=font_sizes, **kwargs)
    monkeypatch.setattr(Visualizer, 'draw_texts', spy)
    result = dict(bboxes=np.array([[10., 10., 22., 20.], [30., 30., 300., 200.]], np.float32),
                  labels=np.array([0, 1]), scores=np.array([0.9, 0.8], np.float32),
                  classes=['cat', 'dog'])
    import warnings
    for side, least in ((240, 11), (1200, 20)):
        sizes.clear()
        edge = dict(result, bboxes=np.array([[10., 10., 22., 20.], [30., 30., side + 80, side]],
                                            np.float32))   # the second box ends at the edges
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            picture = draw_instances(np.zeros((side, side + 80, 3), np.uint8), edge, 0.0)
        assert not [w for w in caught if 'out of bounds' in str(w.message)]
        assert picture.shape == (side, side + 80, 3)
        assert len(sizes) == 2 and min(sizes) >= least, sizes


COMMAND_PROBE = '''
import sys
sys.argv = ['clipseg']                 # as pip's launcher leaves it
from clipseg import cli
try:
    cli.main({argv!r})
except SystemExit:
    pass
heavy = sorted(m for m in ('torch', 'mmseg', 'mmdet', 'open_clip', 'gradio', 'onnx') if m in sys.modules)
print('HEAVY', heavy)
'''


@pytest.mark.parametrize('argv', [['--help'], ['segment', '--help'], ['list', 'naclip_*'],
                                  ['segment', 'missing.jpg', '--classes', 'car'],
                                  ['segment', 'x.jpg', '--classes', 'car', '--config', 'nope']])
def test_the_command_answers_without_the_heavy_stack(argv, tmp_path):
    """Help, listing and argument errors of ``clipseg`` import no torch/mmseg/mmdet (about 0.4 s
    instead of 7-10 s); the error still names the flag or the file."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, '-c', COMMAND_PROBE.format(argv=argv)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, 'PYTHONPATH': os.path.dirname(os.path.dirname(
                              os.path.abspath(clipseg.__file__)))})
    assert 'HEAVY []' in done.stdout, done.stdout + done.stderr
    if argv[0] == 'segment' and argv[1] != '--help':
        assert ('missing.jpg' in done.stderr) or ('--config' in done.stderr), done.stderr


def test_the_command_registers_when_it_builds_a_model():
    """In the command, the first API call registers everything (as ``import clipseg`` elsewhere)."""
    import subprocess
    import sys
    probe = ("import sys; sys.argv = ['clipseg']\nimport clipseg\n"
             "assert 'torch' not in sys.modules\n"
             "clipseg.init_model\n"
             "from mmseg.registry import MODELS\n"
             "print(MODELS.get('ZeroShotSegmentor').__name__, MODELS.get('TimmProxy').__name__)")
    done = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ['ZeroShotSegmentor', 'TimmProxy'], done.stderr
