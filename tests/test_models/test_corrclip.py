"""CorrCLIP and the mask-source slot against a written-out reference of the authors' computation."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPViT
from clipseg.models.attention.corrclip import merge_regions, region_attention
from clipseg.models.clip.loader import create_clip
from clipseg.models.masks import (CallableMasks, DINOClusterMasks, FolderMasks, paint_regions,
                                  region_vote)
from clipseg.models.proxies import build_proxy
from mmseg.registry import MODELS
from ..conftest import TINY_PROXY, TINY_VIT, photo_batch, write_tiny_config
from .references import corrclip as ref

CLIP_MEAN = [122.771, 116.746, 104.094]
CLIP_STD = [68.501, 66.632, 70.323]
ATTENTION = dict(type='CorrCLIPAttention', spatial_layers=1)     # the tiny tower has 3 blocks


def _parts():
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual.eval()
    proxy = build_proxy(TINY_PROXY)
    proxy.set_input_stats(torch.tensor(CLIP_MEAN), torch.tensor(CLIP_STD))
    return visual, proxy


def _planted_regions(h, w):
    """Rectangles of ids 3..8 on an unsegmented (id 1) rest."""
    ids = torch.ones(h, w, dtype=torch.int64)
    ids[: h // 2, : w // 3], ids[: h // 2, w // 3: 2 * w // 3] = 3, 4
    ids[h // 2:, : w // 2], ids[h // 2:, w // 2:] = 5, 6
    ids[h // 4: h // 2, w // 2:] = 8
    return ids


@pytest.mark.parametrize('size', [(112, 112), (112, 168), (100, 130)])
def test_dense_features_match_the_reference(size):
    visual, proxy = _parts()
    adapter = CLIPViT(visual=visual, attention=ATTENTION, proxy=proxy, pos_resize='dino',
                      pad='even_stretch', pad_multiple=56).eval()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    regions = _planted_regions(*size)
    with torch.no_grad(), adapter.attention.region_context(regions[None]):
        ours = adapter(x)[-1][0].flatten(1).t()
    with torch.no_grad():
        padded, (t, l, H, W) = ref._pad_56(x)
        pm = F.pad(regions[None].float(), (l, padded.shape[-1] - W - l, t, padded.shape[-2] - H - t),
                   value=float(regions.max()) + 1)
        dino_in = ((padded * ref.CLIP_STD + ref.CLIP_MEAN) - ref.IN_MEAN) / ref.IN_STD
        feats, shape = ref.dino_qk(proxy.vit, dino_in)
        want = ref.clip_corr_features(visual, padded, feats, shape, pm[None], num_spatial=1)[0]
        plain = ref.clip_corr_features(visual, padded, feats, shape, torch.ones_like(pm)[None],
                                       num_spatial=1)[0]
    cos = F.cosine_similarity(ours, want, dim=-1)
    assert cos.min() >= 0.9999, cos.min()
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=1e-4)
    assert (plain - want).abs().max() > 1e-3                        # the regions really matter


def test_regions_merge_by_their_mean_features_and_the_rest_stays():
    a, b = F.normalize(torch.tensor([1.0, 0.0, 0.0]), dim=0), F.normalize(torch.tensor([0.0, 1.0, 0.0]), dim=0)
    near = F.normalize(a + 0.1 * b, dim=0)
    feats = torch.stack([b, a, a, near, near, b, b, a])            # per patch
    regions = torch.tensor([0, 2, 2, 5, 5, 7, 7, 0])              # 0: the unsegmented rest
    merged = merge_regions(feats, regions, eps=0.2)
    assert merged[1] == merged[3] != merged[5]                      # 2 and 5 merge, 7 does not
    assert merged[0] == merged[7] == 0 and merged.min() == 0
    apart = merge_regions(feats, torch.tensor([0, 2, 2, 2, 2, 7, 7, 0]))
    assert apart[1] == apart[3] != apart[5] == apart[6] and apart[0] == 0
    one = torch.tensor([0, 2, 2, 2, 2, 0, 0, 0])
    assert torch.equal(merge_regions(feats, one), one)             # one region: nothing to merge
    attn = region_attention(feats, merged)
    assert (attn[1, 5:7] == 0).all() and attn[1, 3] > 0             # kept within the region
    assert torch.isfinite(region_attention(torch.ones(4, 3) / 3 ** 0.5, torch.zeros(4))).all()


def test_paint_and_vote_follow_the_authors():
    big = np.zeros((4, 6), bool)
    big[:, :4] = True
    small = np.zeros((4, 6), bool)
    small[:2, 3:] = True
    ids = paint_regions(np.stack([big, small]))                    # smaller first, larger over it
    assert ids.tolist() == [[2, 2, 2, 2, 1, 1], [2, 2, 2, 2, 1, 1], [2, 2, 2, 2, 0, 0],
                            [2, 2, 2, 2, 0, 0]]
    labels = torch.tensor([[0, 1, 1, 3, 2, 2], [1, 1, 0, 3, 2, 5], [4, 4, 4, 4, 0, 7],
                           [4, 4, 4, 4, 7, 7]])
    voted = region_vote(labels, ids)
    assert voted.tolist() == [[4, 4, 4, 4, 2, 2], [4, 4, 4, 4, 2, 2], [4, 4, 4, 4, 0, 7],
                              [4, 4, 4, 4, 7, 7]]
    assert torch.equal(voted, ref.map_correction(labels, ids))


def _tiny_config(tmp_path, base, masks):
    return write_tiny_config(tmp_path, base, extra=(
        f"proxy=dict(_delete_=True, **{TINY_PROXY!r}), attention=dict(spatial_layers=1), "
        f"mask_source=dict(root='{masks}')"))


def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini):
    """The shipped VOC21 config (released-mask folder, slide 336/112 at 336, prob_thd 0.2, map
    correction) on a voc_mini photo with planted masks at the photo's own resolution."""
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    H0, W0 = __import__('cv2').imread(str(photo)).shape[:2]
    raw = _planted_regions(H0, W0)
    (tmp_path / 'masks').mkdir()
    np.savez(tmp_path / 'masks' / f'{photo.stem}.npz', instance_mask=raw.numpy().astype(np.int32))
    cfg = _tiny_config(tmp_path, 'configs/corrclip/corrclip_vit-b16_metaclip_dino-b8_slide336_voc21.py',
                       tmp_path / 'masks')
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    inputs, samples = photo_batch(model, photo)
    out = model.predict(inputs, samples)[0]
    emb = model.class_embeddings()
    assert (emb.num_classes, emb.queries.shape[0]) == (21, 46)
    resized = F.interpolate(raw[None, None].float(), size=inputs.shape[-2:], mode='nearest')[0, 0].long()
    with torch.no_grad():
        logits = ref.slide_logits(model.backbone.visual, model.backbone.proxy.vit, inputs, resized,
                                  emb.queries.float(), num_spatial=1)
    with torch.no_grad():
        ours = model.image_logits([inputs[0]], emb, [raw])[0]
    # a pair is kept when its DINO similarity exceeds the crop's mean: pairs within float rounding
    # of the mean may flip between two exact computations, moving a few scores by ~1e-4
    torch.testing.assert_close(ours, logits, atol=1e-3, rtol=0)
    assert (ours - logits).abs().mean() < 1e-6
    logits = F.interpolate(logits[None], size=(H0, W0), mode='bilinear')[0]
    p = F.softmax(logits * 40.0, dim=0)
    probs = torch.stack([p[emb.query_class == c].max(0).values for c in range(21)])
    labels = probs.argmax(0)
    labels[probs.max(0).values < 0.2] = 0
    labels = ref.map_correction(labels, raw)
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-2, rtol=0)
    assert (out.seg_logits.data - probs).abs().mean() < 1e-5
    assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999
    for v in (3, 4, 5, 6, 8):                                      # one label per planted region
        assert len(out.pred_sem_seg.data[0][raw == v].unique()) == 1


def test_dino_clusters_follow_a_planted_two_colour_image():
    _, proxy = _parts()
    image = np.zeros((64, 96, 3), np.uint8)
    image[:, 48:] = (250, 240, 10)
    regions = DINOClusterMasks(num_clusters=2, min_cells=1)(image, {}, proxy=proxy)
    assert regions.shape == (8, 12)
    assert len(regions[:, :5].unique()) == 1 and len(regions[:, 7:].unique()) == 1
    assert regions[0, 0] != regions[0, -1]


def test_mask_sources_fail_naming_the_problem(tmp_path):
    clip = dict(model_name='tiny', model_cfg=TINY_VIT)
    guided = dict(proxy=TINY_PROXY, backbone_cfg=dict(pad='even_stretch', pad_multiple=56))
    with pytest.raises(ValueError, match='set model.mask_source'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention=ATTENTION, **guided))
    with pytest.raises(ValueError, match='nothing uses it'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention='sclip',
                          mask_source=dict(type='FolderMasks', root=str(tmp_path))))
    with pytest.raises(ValueError, match='set model.proxy'):
        MODELS.build(dict(type='ZeroShotSegmentor', clip=clip, attention='sclip',
                          mask_source=dict(type='DINOClusterMasks'), test_cfg=dict(map_correction=True)))
    image = np.zeros((8, 8, 3), np.uint8)
    with pytest.raises(FileNotFoundError, match='dk258/CorrCLIP'):
        FolderMasks(str(tmp_path / 'missing'))(image, dict(img_path='a/2007_000033.jpg'))
    with pytest.raises(FileNotFoundError, match='2007_000033.npz or 2007_000033.png'):
        FolderMasks(str(tmp_path))(image, dict(img_path='a/2007_000033.jpg'))
    with pytest.raises(ValueError, match='pass files, not arrays'):
        FolderMasks(str(tmp_path))(image, {})
    np.savez(tmp_path / 'x.npz', other=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="no array 'instance_mask'"):
        FolderMasks(str(tmp_path))(image, dict(img_path='x.jpg'))
    with pytest.raises(ValueError, match='expected \\(H, W\\) ids'):
        CallableMasks(lambda img, meta: np.zeros(5))(image, {})
    with pytest.raises(TypeError, match='needs a callable'):
        CallableMasks('masks/')


def test_a_callable_segments_a_whole_batch_with_map_correction():
    """Two images, their own regions from a callable: every region ends with one label."""
    def halves(img, meta):
        ids = np.zeros(img.shape[:2], np.int64)
        ids[:, img.shape[1] // 2:] = 1
        ids[:10, :10] = 2
        return ids
    visual, proxy = _parts()
    seg = MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                            attention=ATTENTION, proxy=proxy, mask_source=CallableMasks(halves),
                            class_names='cat,dog,car',
                            backbone_cfg=dict(pos_resize='dino', pad='even_stretch', pad_multiple=56),
                            test_cfg=dict(crop_size=(112, 112), stride=(56, 56), map_correction=True))).eval()
    outs = seg.predict(torch.randn(2, 3, 90, 150, generator=torch.Generator().manual_seed(3)))
    for out in outs:
        labels = out.pred_sem_seg.data[0]
        assert len(labels[:, 75:].unique()) == 1 and len(labels[:10, :10].unique()) == 1


@pytest.mark.slow
def test_sam2_masks_paint_the_generators_masks():
    """SAM 2's generator (the optional ``sam2`` package; random SAM 2.1 Hiera-T, thresholds open so
    masks come out) gives an id map of the image's size: ids painted by increasing area."""
    sam2 = pytest.importorskip('sam2.build_sam')
    from clipseg.models.masks import SAM2Masks
    torch.manual_seed(0)
    model = sam2.build_sam2('configs/sam2.1/sam2.1_hiera_t.yaml', None, device='cpu',
                            apply_postprocessing=False)
    source = SAM2Masks(model=model, generator=dict(points_per_side=1, pred_iou_thresh=-1e9,
                                                   stability_score_thresh=-1e9, box_nms_thresh=1.0))
    image = np.zeros((64, 96, 3), np.uint8)
    image[:, 48:] = 200
    records = source.generator.generate(image)
    ids = source(image, {})
    assert ids.shape == (64, 96) and len(records) > 0
    assert torch.equal(ids, paint_regions(np.stack([r['segmentation'] for r in records])))
