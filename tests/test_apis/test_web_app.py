import numpy as np
import pytest
from PIL import Image

import clipseg
from clipseg.apis.web_app import WebDemo
from ..conftest import write_tiny_config

ANY_IMAGE = 'configs/maskclip/maskclip_vit-b16_openai_slide336.py'


@pytest.fixture(scope='module')
def app(tmp_path_factory, tiny_ckpt):
    cfg = write_tiny_config(tmp_path_factory.mktemp('cfg'), ANY_IMAGE)
    return WebDemo(str(cfg), weights=str(tiny_ckpt), out_dir=str(tmp_path_factory.mktemp('web')),
                   templates='a_photo_of')


def _photo(seed=0, shape=(70, 110, 3)):
    return np.random.default_rng(seed).integers(0, 255, shape, dtype=np.uint8)


def test_handler_returns_overlay_shares_and_label_map(app):
    rgb = _photo()
    picture, rows, path = app.segment(rgb, 'cat, dog;puppy, car')
    expected = clipseg.segment(app.model(), np.ascontiguousarray(rgb[..., ::-1]),
                               classes=['cat', 'dog;puppy', 'car'])
    labels = np.array(Image.open(path))
    assert labels.shape == rgb.shape[:2]
    np.testing.assert_array_equal(labels, expected['label_map'])  # RGB upload read as RGB
    assert picture.shape[0] >= rgb.shape[0] and picture.shape[1] > rgb.shape[1]  # + legend
    assert picture.dtype == np.uint8 and picture.shape[2] == 3
    share = {name: float(p.rstrip('%')) for name, p, _ in rows}
    assert set(share) <= {'cat', 'dog', 'car'}
    assert sum(share.values()) == pytest.approx(100, abs=0.2)
    assert [r[0] for r in rows] == sorted(share, key=lambda n: -share[n])


def test_same_classes_cost_no_text_forward_and_model_is_kept(app, monkeypatch):
    model = app.model()
    calls = []
    encode = model.text_encoder.encode_prompts
    monkeypatch.setattr(model.text_encoder, 'encode_prompts',
                        lambda prompts: calls.append(len(prompts)) or encode(prompts))
    app.segment(_photo(1), 'tree, sky, grass')
    assert len(calls) == 1
    app.segment(_photo(2), 'tree, sky, grass')
    assert len(calls) == 1 and app.model() is model
    app.segment(_photo(3), 'tree, sky')
    assert len(calls) == 2


def test_background_class_and_threshold(app):
    rgb = _photo(4)
    _, rows, path = app.segment(rgb, 'cat, dog', background=True, threshold=1.0)
    assert [r[0] for r in rows] == ['background'] and rows[0][1] == '100.0%'
    assert np.array(Image.open(path)).max() == 0
    cfg = app.model().test_cfg
    assert cfg['prob_thd'] == 0.0  # restored after the request
    _, _, path = app.segment(rgb, 'cat, dog', background=True, threshold=0.0)
    plain = clipseg.segment(app.model(), np.ascontiguousarray(rgb[..., ::-1]),
                            classes=['background', 'cat', 'dog'])
    np.testing.assert_array_equal(np.array(Image.open(path)), plain['label_map'])
    _, rows, _ = app.segment(rgb, 'cat, backdrop;background', background=True)  # typed: not added
    assert {r[0] for r in rows} <= {'cat', 'backdrop'}


def test_bad_requests_are_clear(app, tmp_path):
    with pytest.raises(ValueError, match='no image'):
        app.segment(None, 'cat')
    with pytest.raises(ValueError, match='no classes'):
        app.segment(_photo(), '  ')
    with pytest.raises(ValueError, match='duplicate class'):
        app.segment(_photo(), 'cat, cat')
    with pytest.raises(ValueError, match='background'):
        app.segment(_photo(), 'cat, dog', threshold=0.5)
    with pytest.raises(ValueError, match='not an RGB image'):
        app.segment(np.zeros((4, 4, 7), np.uint8), 'cat')
    secret = tmp_path / 'secret.txt'
    secret.write_text('password\n')
    _, rows, _ = app.segment(_photo(), f'{secret}, dog')  # a name, never a server file
    assert 'password' not in {r[0] for r in rows}


def test_page_builds(app):
    gr = pytest.importorskip('gradio')
    from clipseg.apis.web_app import build_ui
    ui = build_ui(app, examples=[])
    assert isinstance(ui, gr.Blocks)
    ids = {getattr(b, 'elem_id', None) for b in ui.blocks.values()}
    assert {'input-image', 'classes', 'run', 'result', 'shares', 'label-map'} <= ids
