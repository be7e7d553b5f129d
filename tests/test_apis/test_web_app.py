import os

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
    app.segment(_photo(3), 'tree, sky')                 # known names: nothing to encode
    assert len(calls) == 1
    app.segment(_photo(3), 'tree, sky, grass, road')    # one new class: only its prompts
    assert len(calls) == 2 and calls[-1] == len(model.text_encoder.templates)


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


def test_ticking_background_recolours_nothing(app):
    """Colours follow what the visitor typed: a pixel that is 'cat' with and without the added
    background has the same colour in both pictures; the added background is grey."""
    from clipseg.apis.web_app import BACKGROUND_BGR, page_colours
    typed = [['cat'], ['dog']]
    assert (page_colours(typed, [['background']] + typed)[1:] == page_colours(typed, typed)).all()
    assert tuple(page_colours(typed, [['background']] + typed)[0]) == BACKGROUND_BGR
    rgb = _photo(4)
    plain, _, p1 = app.segment(rgb, 'cat, dog')
    with_bg, _, p2 = app.segment(rgb, 'cat, dog', background=True)
    l1, l2 = np.array(Image.open(p1)), np.array(Image.open(p2))
    both = (l1 == 0) & (l2 == 1)                      # 'cat' in both runs
    assert both.any()
    h, w = l1.shape
    np.testing.assert_array_equal(plain[:h, :w][both], with_bg[:h, :w][both])


def test_a_request_threshold_never_edits_the_shared_model(app, monkeypatch):
    """The threshold travels with the request (the data sample's metainfo): while the head
    decides, the model's own test_cfg still holds its value, so concurrent requests cannot see
    each other's threshold."""
    model = app.model()
    decide, seen = model.decode_head.decide, []

    def spy(rows, shape, emb, cfg, device):
        seen.append((cfg['prob_thd'], model.test_cfg['prob_thd']))
        return decide(rows, shape, emb, cfg, device)
    monkeypatch.setattr(model.decode_head, 'decide', spy)
    app.segment(_photo(4), 'cat, dog', background=True, threshold=0.7)
    assert seen == [(0.7, 0.0)]


def test_bad_requests_are_clear(app, tmp_path):
    with pytest.raises(ValueError, match='no image'):
        app.segment(None, 'cat')
    with pytest.raises(ValueError, match='no classes'):
        app.segment(_photo(), '  ')
    with pytest.raises(ValueError, match='duplicate class'):
        app.segment(_photo(), 'cat, cat')
    with pytest.raises(ValueError, match='background'):
        app.segment(_photo(), 'cat, dog', threshold=0.5)
    with pytest.raises(ValueError, match='at most 256'):
        app.segment(_photo(), ','.join(f'class{i}' for i in range(300)))
    for bad in (-0.5, 1.5, float('nan')):
        with pytest.raises(ValueError, match='between 0 and 1'):
            app.segment(_photo(), 'cat', background=True, threshold=bad)
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
    segment = [f for f in ui.fns.values() if f.api_name == 'segment']
    assert segment and segment[0].tracks_progress       # the page shows the encoding progress
    result = next(b for b in ui.blocks.values() if getattr(b, 'elem_id', None) == 'result')
    assert not result.buttons                            # nothing over the legend


def test_page_values_name_nothing_on_the_server(tmp_path, tiny_ckpt):
    """The method is a shipped or operator-listed config by name; weights are a tag or a file of
    the operator's folder by name; any other value is refused with no path and no file touched."""
    from clipseg.apis.web_app import RequestError
    cfg = write_tiny_config(tmp_path, ANY_IMAGE, name='tiny_web.py')
    weights_dir = tmp_path / 'weights'
    weights_dir.mkdir()
    (weights_dir / 'tiny.pt').write_bytes(tiny_ckpt.read_bytes())
    (weights_dir / 'broken.pt').write_bytes(b'not a checkpoint')
    app = WebDemo(str(cfg), weights=str(tiny_ckpt), out_dir=str(tmp_path / 'out'),
                  weights_dir=str(weights_dir), templates='a_photo_of')
    assert app.config == 'tiny_web' and app.weights == 'tiny_vit.pt'
    marker = tmp_path / 'CONFIG_RAN'
    evil = tmp_path / 'evil.py'                  # what a visitor uploads, then names as config
    evil.write_text(f'open({str(marker)!r}, "w").close()\n')
    for config in (str(evil), 'evil', '/etc/passwd', '../configs/x.py'):
        with pytest.raises(RequestError, match='choose one of the offered configs') as err:
            app.handle(_photo(), 'cat', config, None)
        assert '/' not in str(err.value)
    assert not marker.exists()
    answers = set()
    for weights in ('/etc/passwd', '/no/such/file.pt', 'weights/tiny.pt', str(weights_dir / 'tiny.pt')):
        with pytest.raises(RequestError) as err:
            app.handle(_photo(), 'cat', 'tiny_web', weights)
        answers.add(str(err.value))
    assert len(answers) == 1 and '/' not in answers.pop()   # one answer: no existence oracle
    _, rows, path = app.handle(_photo(), 'cat, dog', 'tiny_web', 'tiny.pt')
    assert rows and os.path.isfile(path)
    with pytest.raises(RequestError) as err:
        app.handle(_photo(), 'cat', 'tiny_web', 'broken.pt')
    assert 'broken.pt' in str(err.value) and str(weights_dir) not in str(err.value)


def test_label_maps_are_removed_once_served(app, tmp_path):
    _, _, path = app.segment(_photo(), 'cat, dog')
    assert os.path.isfile(path)
    app.forget(path)
    assert not os.path.exists(path)
    outside = tmp_path / 'keep.png'
    outside.write_bytes(b'x')
    app.forget(str(outside))                              # only files of its own folder
    assert outside.exists()


def test_uploads_above_the_pixel_limit_are_refused(app):
    from clipseg.apis.web_app import RequestError
    from clipseg.utils.image_io import set_max_pixels
    set_max_pixels(1000)
    try:
        with pytest.raises(RequestError, match='above the limit of 1,000'):
            app.handle(_photo(shape=(40, 40, 3)), 'cat')
    finally:
        set_max_pixels(None)


def test_error_messages_lose_their_paths():
    from clipseg.apis.web_app import scrub_paths
    msg = "cannot read CLIP checkpoint '/srv/models/secret/vit.pt': list index out of range"
    assert scrub_paths(msg) == "cannot read CLIP checkpoint 'vit.pt': list index out of range"
    assert scrub_paths('cat/dog is a name') == 'cat/dog is a name'


def test_the_page_config_holds_no_server_paths(tmp_path, tiny_ckpt):
    import json
    pytest.importorskip('gradio')
    from clipseg.apis.web_app import build_ui
    cfg = write_tiny_config(tmp_path, ANY_IMAGE, name='tiny_page.py')
    app = WebDemo(str(cfg), weights=str(tiny_ckpt), out_dir=str(tmp_path / 'out'))
    page = json.dumps(build_ui(app, examples=[]).get_config_file(), default=str)
    for secret in (str(tmp_path), str(tiny_ckpt.parent), 'configs/'):
        assert secret not in page
    assert 'tiny_page' in page and 'tiny_vit.pt' in page


def test_the_page_offers_the_template_set(app):
    """A request may pick a shipped prompt-template set (the model is rebuilt with it and kept);
    an unknown set is refused without echoing it."""
    from clipseg.apis.web_app import RequestError
    app.segment(_photo(), 'cat, dog', templates='maskclip')
    assert len(app.model(templates='maskclip').text_encoder.templates) == 85
    assert app._model_key[2] == 'maskclip'
    app.segment(_photo(), 'cat, dog')                            # back to the demo's default
    assert len(app.model().text_encoder.templates) == 1
    with pytest.raises(RequestError, match='prompt templates: choose one of') as err:
        app.segment(_photo(), 'cat', templates='../../etc/passwd')
    assert 'passwd' not in str(err.value)
