"""OVSeg: masked crops, mask prompts and the semantic map equal the authors' computation; masks
of the wrong size are refused; mask prompt tuning trains only the prompts."""
import pytest
import torch

from clipseg.models.mask_crops import masked_crops
from clipseg.models.mask_prompts import MaskPromptedCLIP
from mmseg.registry import MODELS
from .references import ovseg as ref
from ..conftest import TINY_VIT

MEAN = (122.7709383, 116.7460125, 104.09373615)
STD = (68.5005327, 66.6321579, 70.32316305)


def _planted(seed=0, H=48, W=80):
    """An image and five masks: soft, on the border, tiny, empty (below 0.4), large."""
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(3, H, W, generator=g) * 255
    masks = torch.zeros(5, H, W)
    masks[0, 5:20, 10:40] = torch.rand(15, 30, generator=g)          # soft: thresholded
    masks[1, 30:, 60:] = 1                                            # border
    masks[2, 24, 7] = 1                                               # one pixel
    masks[3, 10:30, 10:30] = 0.3                                      # nothing above 0.4
    masks[4, 2:46, 3:75] = 1
    return image, masks


def _ovseg(depth=3, classes='cat,dog,car,tree', **kw):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='OVSegSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                              mask_prompt_depth=depth, class_names=classes, templates='a_photo_of',
                              **kw))
    if depth:
        with torch.no_grad():     # prompts large enough to matter
            model.image_encoder.mask_embedding.normal_(0, 0.5)
    return model.eval()


def test_crops_equal_the_authors_preprocessing():
    image, masks = _planted()
    ours = masked_crops(image, masks, MEAN, STD, 0.4, 64, 1.0)
    want = ref.preprocess(image, masks, MEAN, STD, 0.4, 64, 1.0)
    assert ours[2].tolist() == want[2].tolist() == [True, True, True, False, True]
    torch.testing.assert_close(ours[0], want[0], atol=1e-4, rtol=0)
    assert torch.equal(ours[1], want[1])
    grown = masked_crops(image, masks, MEAN, STD, 0.4, 64, 1.5)[0]   # expand_ratio moves the crop
    torch.testing.assert_close(grown, ref.preprocess(image, masks, MEAN, STD, 0.4, 64, 1.5)[0],
                               atol=1e-4, rtol=0)
    assert not torch.allclose(grown, ours[0], atol=1e-2)


@pytest.mark.parametrize('depth', [0, 1, 3])
def test_mask_prompted_tower_and_semantic_map_equal_the_reference(depth):
    model = _ovseg(depth)
    image, masks = _planted(1)
    probs, valid = model.classify(image, masks)
    crops, cmasks, _ = masked_crops(image, masks, model.clip_mean, model.clip_std, 0.4, 64, 1.0)
    visual = model.image_encoder.visual
    with torch.no_grad():
        if depth:
            want_feats = ref.prompted_tower(visual, model.image_encoder.mask_embedding, crops, cmasks, 16)
        else:
            want_feats = torch.nn.functional.normalize(visual(crops), dim=-1)
        feats = model.image_encoder(crops, cmasks)
    torch.testing.assert_close(feats, want_feats, atol=1e-5, rtol=0)
    emb = model.class_embeddings()
    want = ref.classify(emb.queries, want_feats, valid, masks)
    torch.testing.assert_close(model.semantic(probs, masks), want, atol=1e-5, rtol=0)
    assert probs[:, ~valid].abs().sum() == 0 and torch.allclose(probs[:, valid].sum(0), torch.ones(4))


def test_prompts_change_only_untouched_patches():
    """A crop whose mask touches every patch gets no prompt: the result equals plain CLIP."""
    model = _ovseg(3)
    crops = torch.randn(2, 3, 64, 64)
    full = torch.ones(2, 64, 64)
    enc = model.image_encoder
    with torch.no_grad():
        plain = torch.nn.functional.normalize(enc.visual(crops), dim=-1)
        torch.testing.assert_close(enc(crops, full), plain, atol=1e-5, rtol=0)
        part = full.clone()
        part[:, :, 40:] = 0                                # the last column of patches is blank
        assert (enc(crops, part) - plain).abs().max() > 1e-3


def test_bad_masks_and_tower_are_refused():
    model = _ovseg(0)
    image, masks = _planted()
    with pytest.raises(ValueError, match=r'masks must be \(N, H, W\) of the image size \(48, 80\)'):
        model.classify(image, masks[:, :40])
    with pytest.raises(ValueError, match='no mask source'):
        model.predict(image[None])
    with pytest.raises(ValueError, match='mask prompt depth must be 0..3'):
        MaskPromptedCLIP(model.image_encoder.visual, 4)
    with pytest.raises(ValueError, match='nothing to train'):
        model.loss(image[None], [])


def test_prompt_tuning_trains_only_the_prompts():
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    model = _ovseg(2).train()
    image, _ = _planted(2)
    gt = torch.zeros(1, 48, 80, dtype=torch.int64)
    gt[0, 10:30, 20:60] = 2
    gt[0, 40:, :] = 255
    sample = SegDataSample(gt_sem_seg=PixelData(data=gt))
    losses = model.loss(image[None], [sample])
    losses['loss_mpt'].backward()
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == ['image_encoder.mask_embedding']
    assert model.image_encoder.mask_embedding.grad.abs().sum() > 0
    assert 0 <= float(losses['acc_mpt']) <= 1
