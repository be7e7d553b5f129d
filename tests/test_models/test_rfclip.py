"""RF-CLIP against a written-out reference of the authors' computation, on identical random weights."""
import pytest
import torch
import torch.nn.functional as F

import clipseg
from clipseg.models import CLIPResNet, CLIPViT
from clipseg.models.attention import RFCLIPAttention, build_attention
from clipseg.models.attention.rfclip import smooth_distractors
from clipseg.models.heads.rfclip_head import cluster_names
from clipseg.models.clip.loader import create_clip
from clipseg.models.segmentors.windows import slide_windows
from ..conftest import TINY_RN, TINY_VIT, photo_batch, write_tiny_config
from .references import rfclip as ref

# the tiny tower (width 64) has no published distractor channels: plant some, and a threshold low
# enough that random weights have distractors (the released σ = 5 flags none on random weights)
DIMS, SIGMA = (3, 17, 40, 61), 1.2
ATTENTION = dict(type='RFCLIPAttention', distraction_dims=DIMS, sigma=SIGMA)


def _visual():
    torch.manual_seed(0)
    return create_clip('tiny', model_cfg=TINY_VIT)[0].visual.eval()


@pytest.mark.parametrize('refocus', [False, True])
def test_dense_features_and_global_token_match_the_reference(refocus):
    visual = _visual()
    att = dict(ATTENTION, refocus=refocus, refocus_threshold=0.012)
    adapter = CLIPViT(visual=visual, attention=att, pos_resize='dino', pad='drop',
                      with_global=True).eval()
    x = torch.randn(1, 3, 224, 320, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        glob, dense = adapter(x)[-1]
    want = ref.encode_window(visual, x, attn_strategy='refocus' if refocus else 'vanilla',
                             refocus_threshold=0.012, distraction_dims=DIMS, denoise_sigma=SIGMA)
    ours = dense[0].flatten(1).t()
    assert F.cosine_similarity(ours, want['dense'], dim=-1).min() >= 0.9999
    torch.testing.assert_close(ours, want['dense'], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(glob[0], want['cls'], atol=1e-4, rtol=1e-4)
    plain = ref.encode_window(visual, x, distraction_dims=DIMS, denoise_sigma=100.0)['dense']
    assert (plain - want['dense']).abs().max() > 1e-3          # the planted paths really ran


def test_distractor_smoothing_touches_only_flagged_tokens():
    x = torch.rand(1, 1 + 12, 8)
    x[0, 1 + 5, 2] = 50.0                                      # token 5 peaks on channel 2
    out = smooth_distractors(x, (3, 4), dims=(2,), sigma=5.0, alpha=0.4)
    changed = (out != x).any(-1)[0]
    assert changed.tolist() == [i == 1 + 5 for i in range(13)]
    box = F.avg_pool2d(x[0, 1:].t().reshape(1, 8, 3, 4), 3, 1, 1).reshape(8, 12).t()
    torch.testing.assert_close(out[0, 6], 0.6 * x[0, 6] + 0.4 * box[5])


def test_name_groups_are_complete_linkage_at_the_distance():
    base = F.normalize(torch.randn(3, 16, generator=torch.Generator().manual_seed(0)), dim=-1)
    near = F.normalize(base[0] + 0.05 * base[1], dim=0)        # a near-synonym of name 0
    groups = cluster_names(torch.cat([base, near[None]]), 0.05)
    assert groups[3] == groups[0] and len(set(groups[:3].tolist())) == 3
    assert torch.equal(groups, torch.as_tensor(ref.cluster_names(torch.cat([base, near[None]]), 0.05)))


def _photo_inputs(model, voc_mini):
    photo = sorted((voc_mini / 'JPEGImages').glob('*.jpg'))[0]
    inputs, _ = photo_batch(model, photo)
    return inputs


def _class_probs(logits, emb, scale=40.0):
    probs = F.softmax(logits * scale, dim=0)
    return torch.stack([probs[emb.query_class == c].max(0).values for c in range(emb.num_classes)])


@pytest.mark.parametrize('config,slide', [('rfclip_vit-b16_openai_whole336_voc21', False),
                                          ('rfclip_vit-b16_openai_slide336_context60', True)])
def test_shipped_configs_on_a_photo_match_the_reference(tmp_path, voc_mini, config, slide):
    """VOC21 (whole image, the window's own global token) and Context60 (slide, the whole image's
    global token per crop): class probabilities and labels as the reference computes them."""
    cfg = write_tiny_config(tmp_path, f'configs/rfclip/{config}.py')
    torch.manual_seed(0)
    model = clipseg.init_model(str(cfg))
    assert isinstance(model.backbone.attention, RFCLIPAttention)
    model.backbone.attention = build_attention(ATTENTION)
    head = model.decode_head
    inputs = _photo_inputs(model, voc_mini)
    out = model.predict(inputs)[0]
    emb = model.class_embeddings()
    Q = F.normalize(emb.queries.float(), dim=-1)
    clusters = ref.cluster_names(Q, head.cluster_distance)
    kw = dict(h_threshold=head.cluster_distance, mean_vector_weight=head.nudge_weight,
              global_semantics_weight=head.global_weight, clusters=clusters,
              distraction_dims=DIMS, denoise_sigma=SIGMA)
    visual = model.backbone.visual
    H, W = inputs.shape[-2:]
    if not slide:
        logits = ref.rfclip_window_logits(visual, inputs, Q, **kw)['logits']
    else:
        logits, count = torch.zeros(Q.shape[0], H, W), torch.zeros(1, H, W)
        for y1, x1, y2, x2 in slide_windows(H, W, (224, 224), (112, 112)):
            win = ref.rfclip_window_logits(visual, inputs[..., y1:y2, x1:x2], Q, whole_img=inputs, **kw)
            logits[:, y1:y2, x1:x2] += win['logits']
            count[:, y1:y2, x1:x2] += 1
        logits = logits / count
    probs = _class_probs(logits, emb)
    labels = probs.argmax(0)
    labels[probs.max(0).values < 0.1] = 0
    torch.testing.assert_close(out.seg_logits.data, probs, atol=1e-4, rtol=1e-4)
    assert (out.pred_sem_seg.data[0] == labels).float().mean() >= 0.999
    assert len(set(clusters.tolist())) < Q.shape[0] or head.cluster_distance < 0.05


def test_refused_by_name_without_channels_or_on_other_towers():
    with pytest.raises(ValueError, match='distractor channels.*width-64'):
        CLIPViT(visual=_visual(), attention='rfclip')(torch.randn(1, 3, 64, 64))
    with pytest.raises(TypeError, match='RFCLIPAttention.*open_clip ViT towers'):
        CLIPResNet(visual=create_clip('tiny', model_cfg=TINY_RN)[0].visual, attention='rfclip')
