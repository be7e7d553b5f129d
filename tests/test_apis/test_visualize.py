"""Label-map files keep their values exactly and say which class each value is."""
import json

import numpy as np
import pytest
from PIL import Image

from clipseg.apis.visualize import save_label_map


@pytest.mark.parametrize('num_classes', [3, 300])        # palette PNG, 16-bit PNG
def test_label_maps_round_trip_and_carry_their_class_names(tmp_path, num_classes):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, num_classes, size=(17, 23))
    names = [f'class {k} é' for k in range(num_classes)]
    path = tmp_path / 'labels.png'
    save_label_map(str(path), labels, num_classes, names)
    img = Image.open(path)
    assert img.mode == ('P' if num_classes <= 256 else 'I;16')
    np.testing.assert_array_equal(np.array(img), labels)
    assert json.loads(img.text['clipseg:classes']) == names
    assert not (tmp_path / 'labels.json').exists()           # a sidecar only when asked for
    save_label_map(str(path), labels, num_classes, names, sidecar=True)
    sidecar = json.loads((tmp_path / 'labels.json').read_text(encoding='utf-8'))
    assert sidecar['classes'] == names and sidecar['image'] == 'labels.png'
    if num_classes <= 256:                                   # the colours the PNG shows
        assert np.array(Image.open(path).getpalette()[:3 * num_classes]).reshape(-1, 3).tolist() \
            == sidecar['palette_rgb']
    save_label_map(str(path), labels, num_classes)           # without names: no chunk
    assert 'clipseg:classes' not in Image.open(path).text
