"""SC-CLIP against a written-out reference of the authors' computation, on identical random weights."""
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPResNet, CLIPViT
from clipseg.models.attention.scclip import lof_outliers, repair_tokens
from clipseg.models.clip.loader import create_clip
from ..conftest import TINY_RN, TINY_VIT, photo_batch, write_tiny_config
from .references import scclip as ref

# SC-CLIP's layer indices (8, 3, 3-10) need a 12-block ViT, as ViT-B/16
TINY_VIT12 = dict(TINY_VIT, vision_cfg=dict(TINY_VIT['vision_cfg'], layers=12))


def _visual():
    torch.manual_seed(0)
    return create_clip('tiny', model_cfg=TINY_VIT12)[0].visual.eval()


@pytest.mark.parametrize('size', [(224, 224), (224, 320), (320, 224)])
def test_dense_features_match_the_reference(size):
    """Square windows (all the authors run): their index mapping; other grids: the row-major one."""
    visual = _visual()
    adapter = CLIPViT(visual=visual, attention='scclip', pos_resize='dino', pad='drop').eval()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ours = adapter(x)[-1][0].flatten(1).t()                     # (h*w, D)
    mode = 'authors' if size[0] == size[1] else 'correct'
    want, dbg = ref.scclip_dense_features(visual, x, index_mode=mode, return_debug=True)
    assert len(dbg['outliers']) > 0                                  # the repair really ran
    cos = F.cosine_similarity(ours, want, dim=-1)
    assert cos.min() >= 0.9999, cos.min()
    torch.testing.assert_close(ours, want, atol=1e-4, rtol=1e-4)


def test_the_repair_matters_and_is_where_the_outliers_are():
    """A planted far token is an outlier and is replaced by the mean of its 8 neighbours."""
    g = torch.Generator().manual_seed(0)
    tokens = torch.randn(1, 6 * 7, 8, generator=g)
    tokens[0, 3 * 7 + 5] += 40.0                                     # row 3, column 5 of a 6×7 grid
    outliers = lof_outliers(tokens, neighbours=10, fraction=0.05)
    assert outliers[0, 3 * 7 + 5]
    fixed = repair_tokens(tokens, outliers, (6, 7))
    grid, mask = tokens[0].view(6, 7, 8), outliers[0].view(6, 7)
    ring = [(r, c) for r in (2, 3, 4) for c in (4, 5, 6) if (r, c) != (3, 5) and not mask[r, c]]
    torch.testing.assert_close(fixed[0].view(6, 7, 8)[3, 5],
                               torch.stack([grid[r, c] for r, c in ring]).mean(0))
    assert torch.equal(fixed[~outliers], tokens[~outliers])


def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini):
    """The shipped VOC21 config (logit 50, prob_thd 0.15, area_thd 0.1, slide 224/112 at 336) on
    a voc_mini photo: class probabilities and labels as the reference computes them."""
    cfg = write_tiny_config(tmp_path, 'configs/scclip/scclip_vit-b16_openai_slide336_voc21.py',
                            model_cfg=TINY_VIT12)
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    inputs, _ = photo_batch(model, photo)
    out = model.predict(inputs)[0]
    emb = model.class_embeddings()
    H, W = inputs.shape[-2:]
    logits = ref.slide_logits(model.backbone.visual, inputs, emb.queries.float())
    probs = F.softmax(logits * 50.0, dim=0)
    probs = torch.stack([probs[emb.query_class == c].max(0).values for c in range(emb.num_classes)])
    area = torch.bincount(probs.argmax(0).flatten(), minlength=emb.num_classes)[1:].float()
    probs[1:] *= (area > 0.1 * area.sum()).float()[:, None, None]   # SCLIP's area threshold
    labels = probs.argmax(0)
    labels[probs.max(0).values < 0.15] = 0
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-4, rtol=1e-4)
    assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999
    assert out.pred_sem_seg.data.shape[-2:] == (H, W)


def test_other_towers_and_too_shallow_vits_are_refused_by_name():
    rn = create_clip('tiny', model_cfg=TINY_RN)[0].visual
    with pytest.raises(TypeError, match='SCCLIPAttention.*open_clip ViT towers'):
        CLIPResNet(visual=rn, attention='scclip')
    shallow = CLIPViT(visual=create_clip('tiny', model_cfg=TINY_VIT)[0].visual, attention='scclip')
    with pytest.raises(ValueError, match='at least 11 blocks'):
        shallow(torch.randn(1, 3, 64, 64))
    with pytest.raises(ValueError, match='rewrites the whole tower'):
        CLIPViT(visual=_visual(), attention='scclip', out_indices=(3,))
