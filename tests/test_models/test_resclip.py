"""ResCLIP against a written-out reference of the authors' computation, on identical random weights."""
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPResNet, CLIPViT
from clipseg.models.attention import ResCLIPAttention, build_attention
from clipseg.models.attention.resclip import feedback_map
from clipseg.models.clip.loader import create_clip
from ..conftest import TINY_RN, TINY_VIT, tiny_segmentor, photo_batch, write_tiny_config
from .references import resclip as ref

RCS_LAYERS = (0, 1)          # the tiny ViT has 3 blocks; ViT-B/16's are (5, 6, 7, 8)


def _photo_inputs(model, voc_mini):
    return photo_batch(model, sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0])[0]


@pytest.mark.parametrize('temp_thd', [0.5, 0.0])
def test_voc21_config_on_a_photo_matches_the_reference(tmp_path, voc_mini, temp_thd):
    """The shipped VOC21 config (NACLIP host, whole image at 336, RCS (2.0, 0.3), SFR (2.2, 0.7),
    prob_thd 0.1); temp_thd 0.5 as shipped, and 0 so that random weights give several labels."""
    cfg = write_tiny_config(tmp_path, 'configs/resclip/resclip_vit-b16_openai_whole336_voc21.py')
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    shipped = model.backbone.attention
    assert (shipped.host, shipped.rcs, shipped.sfr, shipped.temp_thd) == ('naclip', (2.0, 0.3), (2.2, 0.7), 0.5)
    model.backbone.attention = build_attention(dict(type='ResCLIPAttention', rcs=(2.0, 0.3),
                                                    sfr=(2.2, 0.7), temp_thd=temp_thd,
                                                    rcs_layers=RCS_LAYERS))
    inputs = _photo_inputs(model, voc_mini)
    out = model.predict(inputs)[0]
    emb = model.class_embeddings()
    want = ref.resclip_reference(model.backbone.visual, inputs, emb.queries.float(), emb.query_class,
                                 rcs_layers=RCS_LAYERS, temp_thd=temp_thd, prob_thd=0.1,
                                 out_size=inputs.shape[-2:])
    if temp_thd == 0.0:
        assert len(want['patch_labels'].unique()) > 2          # the feedback map is not trivial
    stored = want['probs'] / want['probs'].sum(0, keepdim=True)   # resclip_segmentor.py:184
    assert model.test_cfg['renormalize']
    torch.testing.assert_close(out.seg_logits.data, stored, atol=1e-4, rtol=1e-4)
    assert (out.pred_sem_seg.data[0] == want['labels']).float().mean() >= 0.999
    with torch.no_grad(), model.backbone.attention.text_context(inputs, emb.queries, 40.0):
        feats = model.backbone(inputs)[-1][0].flatten(1).t()
    assert F.cosine_similarity(F.normalize(feats, dim=-1), want['feats'], dim=-1).min() >= 0.9999
    model.backbone.attention.sfr = None                          # SFR really changes the answer
    assert (model.predict(inputs)[0].seg_logits.data - stored).abs().max() > 1e-4


def test_feedback_map_matches_the_reference_on_planted_labels():
    """Two blobs of label 1 (the path between them leaves the label: decayed) and label 2."""
    labels = torch.zeros(6, 7, dtype=torch.long)
    labels[0:2, 0:2] = 1
    labels[4:6, 5:7] = 1
    labels[2:4, 2:5] = 2
    ours = feedback_map(labels, std=2.0)
    want = ref._sfr_matrix(labels, 2.0, delete_same_entity=True).float()
    torch.testing.assert_close(ours, want, atol=1e-3, rtol=1e-3)
    plain = feedback_map(labels, std=2.0, delete_same_entity=False)
    assert (plain - ours).abs().max() > 1e-3
    assert ours[0].abs().sum() == 0 and ours[:, 0].abs().sum() == 0


@pytest.mark.parametrize('host', ['naclip', 'sclip', 'clearclip'])
def test_with_both_plug_ins_off_it_is_the_host(host):
    """RCS and SFR are plug-ins: switched off, ResCLIP on a host is that host, residual and FFN
    included (kept for SCLIP, dropped for NACLIP and ClearCLIP)."""
    torch.manual_seed(0)
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual.eval()
    x = torch.randn(1, 3, 96, 128)
    plain = CLIPViT(visual=visual, attention=host, pos_resize='dino', pad='drop')
    plug = CLIPViT(visual=visual, attention=dict(type='ResCLIPAttention', host=host, rcs=None,
                                                 sfr=None), pos_resize='dino', pad='drop')
    with torch.no_grad():
        torch.testing.assert_close(plug(x)[-1], plain(x)[-1], atol=1e-5, rtol=1e-5)
        rcs = CLIPViT(visual=visual, attention=dict(type='ResCLIPAttention', host=host,
                                                    rcs_layers=RCS_LAYERS, sfr=None),
                      pos_resize='dino', pad='drop')(x)[-1]
    assert (rcs - plain(x)[-1]).abs().max() > 1e-3


def test_every_host_segments_through_the_segmentor():
    for host in ('sclip', 'clearclip', 'vanilla'):
        seg = tiny_segmentor(dict(type='ResCLIPAttention', host=host, rcs_layers=RCS_LAYERS,
                                  temp_thd=0.0))
        out = seg.predict(torch.randn(1, 3, 80, 96))[0]
        assert out.pred_sem_seg.data.shape[-2:] == (80, 96)


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match='host must be one of'):
        ResCLIPAttention(host='maskclip')
    visual = create_clip('tiny', model_cfg=TINY_VIT)[0].visual
    with pytest.raises(ValueError, match='RCS layers'):
        CLIPViT(visual=visual, attention='resclip')(torch.randn(1, 3, 64, 64))
    with pytest.raises(RuntimeError, match='run it in ZeroShotSegmentor'):
        CLIPViT(visual=visual, attention=dict(type='ResCLIPAttention', rcs_layers=RCS_LAYERS))(
            torch.randn(1, 3, 64, 64))
    with pytest.raises(TypeError, match='ResCLIPAttention.*open_clip ViT towers'):
        CLIPResNet(visual=create_clip('tiny', model_cfg=TINY_RN)[0].visual, attention='resclip')
