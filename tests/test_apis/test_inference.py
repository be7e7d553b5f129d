import numpy as np
import pytest

import clipseg
from ..conftest import write_tiny_config

ANY_IMAGE = 'configs/maskclip/maskclip_vit-b16_openai_slide336.py'


@pytest.fixture(scope='module')
def model(tmp_path_factory, tiny_ckpt):
    cfg = write_tiny_config(tmp_path_factory.mktemp('cfg'), ANY_IMAGE)
    return clipseg.init_model(str(cfg), weights=str(tiny_ckpt))


def _images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 255, (90, 140, 3), dtype=np.uint8),
            rng.integers(0, 255, (120, 70, 3), dtype=np.uint8),
            rng.integers(0, 255, (50, 50, 3), dtype=np.uint8)]


def test_batch_equals_one_by_one(model):
    imgs = _images()
    batch = clipseg.segment(model, imgs, classes='cat,dog,road', batch_size=3)
    for img, res in zip(imgs, batch):
        one = clipseg.segment(model, img, classes='cat,dog,road')
        assert res['label_map'].shape == img.shape[:2]
        assert np.array_equal(res['label_map'], one['label_map'])
        np.testing.assert_allclose(res['class_scores'], one['class_scores'], atol=1e-5)


def test_result_fields(model):
    res = clipseg.segment(model, _images()[0], classes=['person; people', 'car'])
    assert res['classes'] == ['person', 'car']
    assert res['pixel_share'].sum() == pytest.approx(1.0)
    # synonyms are max-pooled (SCLIP), so class probabilities sum to at most 1
    assert res['class_scores'].shape == (2,) and res['class_scores'].sum() <= 1.0 + 1e-5
    plain = clipseg.segment(model, _images()[0], classes=['person', 'car'])
    assert plain['class_scores'].sum() == pytest.approx(1.0, abs=1e-4)


def test_tiny_and_huge_images(model):
    tiny = clipseg.segment(model, np.zeros((3, 5, 3), np.uint8), classes='a,b')
    assert tiny['label_map'].shape == (3, 5)
    huge = clipseg.segment(model, np.zeros((3000, 4000, 3), np.uint8), classes='a,b')
    assert huge['label_map'].shape == (3000, 4000)


def test_bad_inputs(model, tmp_path):
    with pytest.raises(ValueError, match='class list is empty'):
        clipseg.segment(model, _images()[0], classes=[])
    with pytest.raises(ValueError, match='duplicate class'):
        clipseg.segment(model, _images()[0], classes='car,car')
    bad = tmp_path / 'x.jpg'
    bad.write_text('nope')
    with pytest.raises(ValueError, match='not an image'):
        clipseg.segment(model, str(bad), classes='a,b')
    with pytest.raises(FileNotFoundError, match='no config'):
        clipseg.init_model('no_such_config_name')


def test_speed_options_reach_the_model_through_cfg_options(tmp_path, tiny_ckpt):
    cfg = write_tiny_config(tmp_path, ANY_IMAGE)
    fast = clipseg.init_model(str(cfg), weights=str(tiny_ckpt), cfg_options={
        'model.test_cfg.precision': 'bf16', 'model.test_cfg.channels_last': True})
    assert fast.test_cfg['precision'] == 'bf16' and fast.test_cfg['channels_last']
    assert fast.test_cfg['crop_size'] == (224, 224)   # the config's other settings are kept
    res = clipseg.segment(fast, _images()[0], classes='cat,dog,road')
    assert res['label_map'].shape == (90, 140)
