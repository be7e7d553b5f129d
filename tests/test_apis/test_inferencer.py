import os

import numpy as np

import clipseg
from clipseg.apis import use_classes
from ..conftest import REPO, TINY_VIT


def test_mmseg_inferencer_on_a_voc_mini_photo(tmp_path, tiny_ckpt, voc_mini):
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(f"_base_ = ['{REPO}/configs/sclip/sclip_vit-b16_openai_slide336.py']\n"
                   f"model = dict(clip=dict(model_name='tiny', model_cfg={TINY_VIT!r}, "
                   f"pretrained='{tiny_ckpt}'), templates='a_photo_of')\n")
    inferencer = clipseg.mmseg_inferencer(str(cfg), classes='person,car,bus,road')
    assert inferencer.visualizer.dataset_meta['classes'] == ['person', 'car', 'bus', 'road']
    img = str(voc_mini / 'JPEGImages' / '2011_000025.jpg')
    res = inferencer(img, out_dir=str(tmp_path / 'out'))
    assert res['predictions'].shape == (375, 500) and res['predictions'].max() < 4
    assert os.listdir(tmp_path / 'out' / 'vis') == ['2011_000025.jpg']
    same = clipseg.segment(inferencer.model, img)['label_map']
    assert (same == res['predictions']).mean() > 0.999
    use_classes(inferencer, ['sky', 'tree'])
    res = inferencer(img)
    assert set(np.unique(res['predictions'])) <= {0, 1}
    assert inferencer.visualizer.dataset_meta['classes'] == ['sky', 'tree']


def test_the_drawn_picture_uses_our_classes_and_colours(tmp_path, tiny_ckpt, voc_mini):
    """mmseg's visualize() resets the visualiser from model.dataset_meta at every call: the
    picture must carry our palette, not Cityscapes'. Also: CLIP weights by ``weights=``."""
    from PIL import Image
    cfg = tmp_path / 'tiny.py'
    cfg.write_text(f"_base_ = ['{REPO}/configs/sclip/sclip_vit-b16_openai_slide336.py']\n"
                   f"model = dict(clip=dict(model_name='tiny', model_cfg={TINY_VIT!r}), "
                   "templates='a_photo_of')\n")
    inferencer = clipseg.mmseg_inferencer(str(cfg), classes='person,car,bus,road',
                                          weights=str(tiny_ckpt))
    img = voc_mini / 'JPEGImages' / '2011_000025.jpg'
    res = inferencer(str(img), return_vis=True)
    assert inferencer.visualizer.dataset_meta['classes'] == ['person', 'car', 'bus', 'road']
    vis = res['visualization'].astype(np.float64)
    photo = np.asarray(Image.open(img).convert('RGB'), dtype=np.float64)
    alpha = inferencer.visualizer.alpha
    labels = res['predictions']
    palette = np.array(inferencer.model.dataset_meta['palette'], dtype=np.float64)
    for k in np.unique(labels):
        drawn = (vis[labels == k] - (1 - alpha) * photo[labels == k]) / alpha   # the colour painted
        assert np.median(np.abs(drawn - palette[k]).max(axis=1)) < 3, (k, np.median(drawn, axis=0))


def test_det_inferencer_with_free_text_classes(tmp_path, tiny_ckpt, voc_mini):
    """mmdet's DetInferencer on a training-free instance config: our classes in its predictions
    and in its drawing; a segmentation config is refused by name."""
    import pytest
    pytest.importorskip('mmdet')
    cfg = tmp_path / 'tiny_det.py'
    cfg.write_text(f"_base_ = ['{REPO}/configs/instances/instances_sclip_vit-b16_openai_slide336_coco.py']\n"
                   f"model = dict(segmentor=dict(clip=dict(_delete_=True, model_name='tiny', "
                   f"model_cfg={TINY_VIT!r}), templates='a_photo_of', "
                   "test_cfg=dict(mode='whole', prob_thd=0.0)), min_area=16)\n")
    inferencer = clipseg.det_inferencer(str(cfg), classes='bus,car,road', weights=str(tiny_ckpt))
    assert inferencer.visualizer.dataset_meta['classes'] == ['bus', 'car', 'road']
    img = str(voc_mini / 'JPEGImages' / '2011_000025.jpg')
    res = inferencer(img, out_dir=str(tmp_path / 'out'), no_save_pred=False)
    pred = res['predictions'][0]
    assert len(pred['labels']) == len(pred['bboxes']) == len(pred['scores']) > 0
    assert max(pred['labels']) < 3
    assert os.listdir(tmp_path / 'out' / 'vis') == ['2011_000025.jpg']
    same = clipseg.detect(inferencer.model, img)
    assert len(same['scores']) == len(pred['scores'])
    use_classes(inferencer, ['sky'])
    assert max(inferencer(img)['predictions'][0]['labels'], default=0) == 0
    with pytest.raises(TypeError, match='segmentation config'):
        clipseg.det_inferencer('sclip_vit-b16_openai_slide336')
