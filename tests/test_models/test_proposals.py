"""The class-agnostic MaskFormer: every ground-truth region is one "region" mask, its proposals
come back per image, and as a mask source they become an id map of the image's size."""
import pytest
import torch

pytest.importorskip('mmdet')
from mmengine.config import Config  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402

from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from ..conftest import REPO  # noqa: E402

CONFIG = REPO / 'configs/ovseg/ovseg_proposals_maskformer_tiny-r18_128_400it_synthetic.py'


def test_regions_are_labelled_one_class_and_proposals_come_back(tmp_path):
    torch.manual_seed(0)
    gen = MODELS.build(Config.fromfile(str(CONFIG)).model)
    gt = torch.zeros(1, 64, 64, dtype=torch.long)
    gt[0, 5:30, 5:30], gt[0, 40:, 40:] = 3, 1
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt))
    sample.set_metainfo(dict(img_shape=(64, 64), ori_shape=(64, 64), pad_shape=(64, 64)))
    inst, _ = gen.decode_head._seg_data_to_instance_data([sample])
    assert inst[0].labels.tolist() == [0, 0, 0] and inst[0].masks.shape == (3, 64, 64)
    losses = gen.loss(torch.randn(1, 3, 64, 64), [sample])
    assert all(torch.isfinite(v).all() for k, v in losses.items() if 'loss' in k)
    out = gen.eval().predict(torch.randn(1, 3, 64, 64), [sample])[0]
    assert out.proposal_masks.shape == (10, 64, 64) and out.proposal_scores.shape == (10,)
    torch.save(dict(state_dict=gen.state_dict()), tmp_path / 'gen.pth')
    source = MODELS.build(dict(type='ProposalMasks', config=str(CONFIG),
                               checkpoint=str(tmp_path / 'gen.pth'), score_thr=0.0))
    ids = source(torch.randint(0, 255, (50, 70, 3), dtype=torch.uint8).numpy(), {})
    assert ids.shape == (50, 70) and 0 <= int(ids.min()) and int(ids.max()) <= 10
    with pytest.raises(FileNotFoundError, match='model.mask_source.checkpoint'):
        MODELS.build(dict(type='ProposalMasks', config=str(CONFIG), checkpoint='nope.pth'))
