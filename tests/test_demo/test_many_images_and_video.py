"""Folder/glob/list runs of the image demo and the video demo, end to end on tiny random CLIPs."""
import pytest
import shutil

import cv2
import numpy as np

from ..conftest import write_tiny_config
from ..test_tools.test_test_py import run

pytestmark = pytest.mark.slow   # end-to-end runs: `pytest -m "not slow"` skips them

CONFIG = 'configs/maskclip/maskclip_vit-b16_openai_slide336.py'


def test_folder_with_a_corrupt_file_writes_the_good_ones(tmp_path, tiny_ckpt, voc_mini):
    src = tmp_path / 'photos'
    shutil.copytree(voc_mini / 'JPEGImages', src)
    (src / 'broken.jpg').write_bytes(b'not an image')
    cfg = write_tiny_config(tmp_path, CONFIG)
    out = run(['demo/image_demo.py', str(src), '--classes', 'person,car,bus', '--config', str(cfg),
               '--weights', str(tiny_ckpt), '--out', str(tmp_path / 'out'), '--label-maps',
               '--batch-size', '2', '--templates', 'a_photo_of'])
    assert out.returncode == 0, out.stderr[-2000:]
    written = sorted(p.name for p in (tmp_path / 'out').iterdir())
    assert written == sorted([f'{s}{x}' for s in ('2011_000003', '2011_000006', '2011_000025')
                              for x in ('.png', '_labels.png', '_labels.json')])
    assert 'skipped' in out.stderr and 'broken.jpg' in out.stderr
    assert 'wrote 3 of 4 images' in out.stdout and 'segmenting' in out.stderr   # progress bar
    from PIL import Image
    labels = np.array(Image.open(tmp_path / 'out' / '2011_000025_labels.png'))   # palette indices
    assert labels.shape == cv2.imread(str(src / '2011_000025.jpg')).shape[:2] and labels.max() < 3
    import json                                       # the PNG names its values
    names = Image.open(tmp_path / 'out' / '2011_000025_labels.png').text['clipseg:classes']
    assert json.loads(names) == ['person', 'car', 'bus']
    sidecar = json.loads((tmp_path / 'out' / '2011_000025_labels.json').read_text())
    assert sidecar['classes'] == ['person', 'car', 'bus'] and len(sidecar['palette_rgb']) == 3

    listing = tmp_path / 'list.txt'
    listing.write_text('photos/2011_000003.jpg\n')
    out = run(['demo/image_demo.py', str(listing), '--classes', 'person,car', '--config', str(cfg),
               '--weights', str(tiny_ckpt), '--out', str(tmp_path / 'out2'), '--templates', 'a_photo_of'])
    assert out.returncode == 0 and [p.name for p in (tmp_path / 'out2').iterdir()] == ['2011_000003.png']
    out = run(['demo/image_demo.py', str(src / 'nothing*.jpg'), '--classes', 'a,b', '--config', str(cfg)])
    assert out.returncode == 2 and 'no images found' in out.stderr


def test_video_round_trip_keeps_frame_count_and_size(tmp_path, tiny_ckpt):
    video = tmp_path / 'in.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 10, (80, 48))
    rng = np.random.default_rng(0)
    for _ in range(10):
        writer.write(rng.integers(0, 255, (48, 80, 3), dtype=np.uint8))
    writer.release()
    cfg = write_tiny_config(tmp_path, CONFIG)
    out = run(['demo/video_demo.py', str(video), '--classes', 'sky,road', '--config', str(cfg),
               '--weights', str(tiny_ckpt), '--out', str(tmp_path / 'out.avi'), '--batch-size', '4'])
    assert out.returncode == 0, out.stderr[-2000:]
    cap = cv2.VideoCapture(str(tmp_path / 'out.avi'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (80, 48)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(('.tmp-', '.clipseg-tmp-'))]
    assert 'legend (BGR colour → class):' in out.stdout and ' sky' in out.stdout
    plain = run(['demo/video_demo.py', str(video), '--classes', 'sky,road', '--config', str(cfg),
                 '--weights', str(tiny_ckpt), '--out', str(tmp_path / 'plain.avi'), '--no-legend'])
    assert plain.returncode == 0, plain.stderr[-2000:]
    with_legend, without = (cv2.VideoCapture(str(tmp_path / n)).read()[1].astype(float)
                            for n in ('out.avi', 'plain.avi'))
    corner = np.abs(with_legend[:16, :24] - without[:16, :24]).mean()   # the legend's first row
    rest = np.abs(with_legend[32:, 48:] - without[32:, 48:]).mean()     # away from it
    assert corner > 20 and rest < 3
    bad = run(['demo/video_demo.py', str(tmp_path / 'missing.mp4'), '--classes', 'a,b'])
    assert bad.returncode == 2 and 'cannot open video' in bad.stderr
