"""ReCo: the co-segmentation finds a planted shared region and equals the authors' computation;
the retrieved set is the planted image's; the whole segmentor equals the reference on tiny models."""
import os

import cv2
import numpy as np
import pytest
import torch

from clipseg.models.cosegment import reference_embedding, seeds
from clipseg.models.text.text_classifier import ClassEmbeddings
from mmseg.registry import MODELS
from .references import reco as ref
from ..conftest import TINY_RN, TINY_VIT

TINY_DEIT = dict(type='TimmProxy', model_name='deit_small_distilled_patch16_224', pretrained=False,
                 model_kwargs=dict(embed_dim=32, depth=2, num_heads=2))


def test_reference_equals_the_authors_loop_with_and_without_its_slice():
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(7, 16, 4, 5, generator=g)
    weights = torch.rand(7, 4, 5, generator=g)
    torch.testing.assert_close(reference_embedding(feats, weights, 'authors'), ref.reference(feats, weights))
    torch.testing.assert_close(reference_embedding(feats, weights, 'exact'),
                               ref.reference(feats, weights, exact=True))
    assert not torch.equal(seeds(feats, weights, 'authors'), seeds(feats, weights, 'exact'))


@pytest.mark.parametrize('rule', ['authors', 'exact'])
def test_cosegmentation_finds_the_planted_shared_patch(rule):
    """Each image holds one patch of a shared vector among noise: the seeds land on them and the
    reference is that vector's direction."""
    g = torch.Generator().manual_seed(1)
    k, C, h, w = 6, 32, 5, 5
    feats = torch.randn(k, C, h, w, generator=g)
    shared = torch.randn(C, generator=g)
    where = torch.randint(0, h * w, (k,), generator=g)
    for i, at in enumerate(where.tolist()):
        feats[i, :, at // w, at % w] = 3 * shared + 0.3 * torch.randn(C, generator=g)
    assert seeds(feats, torch.ones(k, h, w), rule).tolist() == where.tolist()
    got = reference_embedding(feats, torch.ones(k, h, w), rule)
    assert torch.dot(got, shared / shared.norm()) > 0.99


@pytest.fixture
def reco(tmp_path):
    pytest.importorskip('faiss')
    from clipseg.retrieval import ImageIndex
    rng = np.random.default_rng(0)
    folder = tmp_path / 'collection'
    folder.mkdir()
    for i in range(8):
        cv2.imwrite(str(folder / f'{i}.png'), rng.integers(0, 255, (50 + 3 * i, 70, 3), dtype=np.uint8))
    torch.manual_seed(0)
    seg = MODELS.build(dict(type='ReCoSegmentor', clip=dict(model_name='tiny-rn', model_cfg=TINY_RN),
                            encoder=TINY_DEIT, retrieval_clip=dict(model_name='tiny', model_cfg=TINY_VIT),
                            k=4, coseg_size=64, context_categories=('sky', 'road'),
                            class_names='car,tree', templates='a_photo_of')).eval()
    ImageIndex.build(folder, tmp_path / 'index', seg.retrieval()[0], progress=False)
    seg.set_index(str(tmp_path / 'index'))
    return seg, folder


def test_retrieval_returns_the_planted_image_first(reco, monkeypatch):
    seg, folder = reco
    encoder, text = seg.retrieval()
    target = str(folder / '5.png')
    planted = torch.from_numpy(encoder([target]))
    monkeypatch.setattr(text, 'forward', lambda names: ClassEmbeddings(planted, torch.zeros(1).long(), names))
    got = seg.retrieve('anything')
    assert got[0] == target and len(got) == 4 and len(set(got)) == 4


def test_segmentor_equals_the_reference_on_tiny_models(reco):
    """References (with progressive context elimination) and the score map of a new image equal
    the authors' computation on the same retrieved images."""
    seg, _ = reco
    context = []
    with torch.no_grad():
        for name in ('sky', 'road', 'car', 'tree'):
            imgs = seg.load_images(seg.retrieve(name))
            feats = seg.encoder(imgs, prepared=True)
            dense = seg.dense_clip(imgs)[-1]
            text = seg.text_encoder([name]).queries[0]
            want = ref.cosegment(feats, dense, text, torch.stack(context) if context else None)
            torch.testing.assert_close(seg.reference(name), want, atol=1e-5, rtol=0)
            if name in ('sky', 'road'):
                context.append(want)
        image = torch.randn(3, 48, 80)
        emb = seg.class_embeddings()
        feats = seg.encoder(image[None], prepared=True)
        refs = torch.stack([seg.reference('car'), seg.reference('tree')])
        want = ref.infer(feats, refs, seg.dense_clip(image[None])[-1], emb.queries, (48, 80))[0]
        torch.testing.assert_close(seg.scores(image, emb), want, atol=1e-5, rtol=0)
        out = seg.predict(image[None])[0]
    assert out.pred_sem_seg.data.shape == (1, 48, 80) and out.seg_logits.data.shape == (2, 48, 80)


def test_missing_or_foreign_index_is_named(reco, tmp_path):
    from clipseg.retrieval import IndexMismatchError
    seg, _ = reco
    seg.set_index(None)
    with pytest.raises(ValueError, match='tools/build_index.py FOLDER --out DIR'):
        seg.reference('car')
    manifest = tmp_path / 'index' / 'manifest.json'
    manifest.write_text(manifest.read_text().replace('tiny:random', 'ViT-L-14-336:openai'))
    seg.set_index(str(tmp_path / 'index'))
    with pytest.raises(IndexMismatchError, match='rebuild it with these weights'):
        seg.reference('car')
    assert os.path.isfile(manifest)


def test_demo_segments_with_a_built_index(tmp_path, tiny_ckpt, capsys):
    """The index built from a folder (with the retrieval CLIP's weights file) feeds the demo's
    --index; a missing index folder is named."""
    pytest.importorskip('faiss')
    from clipseg import cli
    from clipseg.models.clip import create_clip, weights_id
    from clipseg.retrieval import ImageEncoder, ImageIndex
    from ..conftest import write_tiny_config
    rng = np.random.default_rng(1)
    folder = tmp_path / 'collection'
    folder.mkdir()
    for i in range(5):
        cv2.imwrite(str(folder / f'{i}.jpg'), rng.integers(0, 255, (60, 60, 3), dtype=np.uint8))
    model, _ = create_clip('tiny', model_cfg=TINY_VIT, pretrained=str(tiny_ckpt))
    ImageIndex.build(folder, tmp_path / 'index', ImageEncoder(model, weights_id('tiny', str(tiny_ckpt))),
                     progress=False)
    cfg = write_tiny_config(
        tmp_path, 'configs/reco/reco_rn50x16_vit-l14-336_deit-s16_short320.py', model_cfg=TINY_RN,
        extra=f"encoder=dict(_delete_=True, **{TINY_DEIT!r}), retrieval_clip=dict(_delete_=True, "
              f"model_name='tiny', model_cfg={TINY_VIT!r}, pretrained={str(tiny_ckpt)!r}), k=3, "
              "coseg_size=64, context_categories=('sky',)")
    cv2.imwrite(str(tmp_path / 'photo.png'), rng.integers(0, 255, (40, 56, 3), dtype=np.uint8))
    args = ['segment', str(tmp_path / 'photo.png'), '--classes', 'car,tree', '--config', str(cfg),
            '--templates', 'a_photo_of', '--out', str(tmp_path / 'out.png')]
    assert cli.main(args + ['--index', str(tmp_path / 'index')]) == 0, capsys.readouterr().err
    assert cv2.imread(str(tmp_path / 'out.png')).shape[0] >= 40
    assert cli.main(args + ['--index', str(tmp_path / 'nope')]) == 2
    assert '--index not found' in capsys.readouterr().err
