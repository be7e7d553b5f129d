import pytest
import os
import subprocess
import sys

from ..conftest import REPO, write_tiny_config

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them


def run(args, extra_env=None, **kw):
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONWARNINGS='ignore', **(extra_env or {}))
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def test_test_py_prints_miou_table_on_voc_mini(tmp_path, tiny_ckpt, voc_mini):
    cfg = write_tiny_config(tmp_path, 'configs/sclip/sclip_vit-b16_openai_slide336_voc21.py')
    out = run(['tools/test.py', str(cfg), '--weights', str(tiny_ckpt), '--data-root', str(voc_mini),
               '--work-dir', str(tmp_path / 'wd')])
    assert out.returncode == 0, out.stderr[-3000:]
    log = out.stdout + out.stderr
    assert 'per class results' in log and '|    person   |' in log
    assert "'mIoU'" in out.stdout


def test_demo_writes_overlay_and_label_map(tmp_path, tiny_ckpt, voc_mini):
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    img = voc_mini / 'JPEGImages' / '2011_000025.jpg'
    out_png, labels = tmp_path / 'out.png', tmp_path / 'labels.png'
    res = run(['demo/image_demo.py', str(img), '--classes', 'bus,car,road,sky;clouds',
               '--config', str(cfg), '--weights', str(tiny_ckpt), '--out', str(out_png),
               '--label-map', str(labels), '--precision', 'bf16'])
    assert res.returncode == 0, res.stderr[-3000:]
    import cv2
    from PIL import Image
    overlay, photo = cv2.imread(str(out_png)), cv2.imread(str(img))
    assert overlay.shape[1] > photo.shape[1] and overlay.shape[0] >= photo.shape[0]
    lab = Image.open(labels)
    assert lab.mode == 'P' and lab.size == (photo.shape[1], photo.shape[0])
    assert set(range(4)) >= set(int(v) for v in set(lab.getdata()))
    assert '% of pixels' in res.stdout


def test_demo_failure_leaves_no_file(tmp_path, tiny_ckpt):
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'\xff\xd8garbage')
    res = run(['demo/image_demo.py', str(bad), '--classes', 'a,b', '--config', str(cfg),
               '--weights', str(tiny_ckpt), '--out', str(tmp_path / 'o.png')])
    assert res.returncode == 2 and 'not an image' in res.stderr
    assert not (tmp_path / 'o.png').exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith('.tmp')] == []


def test_demo_offline_weights_error_is_clear(tmp_path, voc_mini):
    img = voc_mini / 'JPEGImages' / '2011_000003.jpg'
    res = run(['demo/image_demo.py', str(img), '--classes', 'a,b', '--out', str(tmp_path / 'o.png')],)
    assert res.returncode == 2 and 'not cached' in res.stderr and 'local file' in res.stderr
