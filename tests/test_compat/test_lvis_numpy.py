"""LVIS evaluation (mmdet's LVISMetric over the PyPI ``lvis`` package) runs under numpy 2."""
import json

import numpy as np
import pytest
import torch

pytest.importorskip('lvis')


def _tiny_lvis(path):
    """Two images, three categories (one of each LVIS frequency), boxes planted."""
    cats = [dict(id=i + 1, name=n, synset=n, synonyms=[n], frequency=f, image_count=1,
                 instance_count=1, **{'def': n}) for i, (n, f) in enumerate(
        [('cat', 'f'), ('dog', 'c'), ('okapi', 'r')])]
    images = [dict(id=i, width=120, height=90, neg_category_ids=[], not_exhaustive_category_ids=[],
                   file_name=f'{i}.jpg') for i in (1, 2)]
    boxes = {1: [(1, [10, 10, 40, 30]), (3, [60, 40, 30, 30])], 2: [(2, [5, 5, 50, 50])]}
    anns, k = [], 0
    for img, items in boxes.items():
        for cat, (x, y, w, h) in items:
            k += 1
            anns.append(dict(id=k, image_id=img, category_id=cat, bbox=[x, y, w, h], area=w * h,
                             segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]]))
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return boxes


@pytest.mark.parametrize('perfect', [True, False])
def test_lvis_metric_on_a_tiny_set(tmp_path, perfect):
    import clipseg  # noqa: F401  (installs the numpy-2 view for lvis.eval)
    from mmdet.evaluation.metrics import LVISMetric
    assert not hasattr(np, 'float')                         # numpy 2: the alias really is gone
    boxes = _tiny_lvis(tmp_path / 'lvis.json')
    metric = LVISMetric(ann_file=str(tmp_path / 'lvis.json'), metric='bbox',
                        outfile_prefix=str(tmp_path / 'out'))
    metric.dataset_meta = dict(classes=('cat', 'dog', 'okapi'))
    samples = []
    for img, items in boxes.items():
        xyxy = [[x, y, x + w, y + h] for _, (x, y, w, h) in items]
        if not perfect:
            xyxy = [[x1 + 25, y1 + 25, x2 + 25, y2 + 25] for x1, y1, x2, y2 in xyxy]
        samples.append(dict(img_id=img, ori_shape=(90, 120), pred_instances=dict(
            bboxes=torch.tensor(xyxy, dtype=torch.float32),
            scores=torch.ones(len(items)), labels=torch.tensor([c - 1 for c, _ in items]))))
    metric.process({}, samples)
    result = metric.evaluate(size=len(samples))
    ap = result['lvis/bbox_AP']
    assert ap == pytest.approx(1.0) if perfect else ap < 0.5
    assert {'lvis/bbox_APr', 'lvis/bbox_APc', 'lvis/bbox_APf'} <= set(result)
