"""Speed options of the backbone (autocast precision, channels-last, torch.compile) keep the label
maps: a pixel may change only where the fp32 class scores are nearly tied."""
import shutil

import pytest
import torch

from ..conftest import TINY_RN, tiny_dinoiser, tiny_segmentor

# Largest fp32 cosine margin (top-1 minus top-2) a changed pixel may have, per precision.
TIE = {'fp32': 1e-5, 'fp16': 5e-4, 'bf16': 5e-3}


def image():
    torch.manual_seed(1)
    return torch.randn(2, 3, 96, 128)


def assert_same_labels(ref, out, precision, scale, tie=None):
    """``scale``: the softmax temperature (margins in cosines), or None (margins in probabilities)."""
    for r, o in zip(ref, out):
        p = r.seg_logits.data
        cos = p if scale is None else p.log() / scale     # softmax(scale·s): log p = scale·s + c
        top2 = cos.topk(2, dim=0).values
        changed = r.pred_sem_seg.data[0] != o.pred_sem_seg.data[0]
        assert changed.float().mean() < 0.05
        assert ((top2[0] - top2[1])[changed] < (tie or TIE[precision])).all()


def matmul_dtypes(seg):
    """Records the output dtype of every Linear in the backbone while it runs."""
    seen = set()
    for m in seg.backbone.modules():
        if isinstance(m, torch.nn.Linear):
            m.register_forward_hook(lambda mod, args, out: seen.add(out.dtype))
    return seen


@pytest.mark.parametrize('precision', ['bf16', 'fp16'])
@pytest.mark.parametrize('arch', ['vit', 'rn'])
def test_autocast_runs_in_low_precision_and_keeps_labels(precision, arch):
    kw = dict(model_cfg=TINY_RN) if arch == 'rn' else {}
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(10)], logit_scale=40.0, **kw)
    ref = seg.predict(image())
    seen = matmul_dtypes(seg)
    seg.test_cfg['precision'] = precision
    out = seg.predict(image())
    assert seen == {dict(bf16=torch.bfloat16, fp16=torch.float16)[precision]}
    assert out[0].seg_logits.data.dtype == torch.float32
    assert_same_labels(ref, out, precision, 40.0)


@pytest.mark.parametrize('arch', ['vit', 'rn'])
def test_channels_last_keeps_labels(arch):
    kw = dict(model_cfg=TINY_RN) if arch == 'rn' else {}
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(10)], **kw)
    ref = seg.predict(image())
    seg.test_cfg['channels_last'] = True
    layouts = []
    conv = next(m for m in seg.backbone.modules() if isinstance(m, torch.nn.Conv2d))
    conv.register_forward_pre_hook(
        lambda mod, args: layouts.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    out = seg.predict(image())
    assert layouts and all(layouts)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert_same_labels(ref, out, 'fp32', 40.0)


@pytest.mark.parametrize('attention', ['maskclip', 'sclip', 'clearclip', 'naclip'])
def test_compiled_backbone_keeps_labels_and_state_dict(attention):
    torch._dynamo.reset()
    seg = tiny_segmentor(attention=attention, classes=[f'class {i}' for i in range(10)])
    keys = list(seg.state_dict())
    ref = seg.predict(image())
    seg.test_cfg['compile'] = dict(backend='aot_eager')
    out = seg.predict(image())
    assert seg.fast_backbone._compiled[0] is seg.backbone
    assert torch._dynamo.utils.counters['stats']['unique_graphs'] >= 1
    assert list(seg.state_dict()) == keys        # no '_orig_mod.' entries
    assert_same_labels(ref, out, 'fp32', 40.0)


@pytest.mark.skipif(shutil.which('cc') is None and shutil.which('gcc') is None,
                    reason="torch.compile's inductor backend needs a C compiler on the CPU")
@pytest.mark.slow
def test_inductor_compiled_backbone_keeps_labels():
    torch._dynamo.reset()
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(10)], mode='whole')
    ref = seg.predict(image())
    seg.test_cfg.update(compile=True)
    assert_same_labels(ref, seg.predict(image()), 'fp32', 40.0)


def test_dinoiser_under_bf16_keeps_labels():
    seg = tiny_dinoiser(classes=[f'class {i}' for i in range(6)]).eval()
    ref = seg.predict(image())
    seen = matmul_dtypes(seg)
    seg.test_cfg['precision'] = 'bf16'
    out = seg.predict(image())
    assert seen == {torch.bfloat16}
    # DINOiser stitches probabilities, softmax(100 · cosine) after pooling with correlations
    # thresholded at γ, so bf16 moves them more: a changed pixel's fp32 probability margin
    # must stay under 0.025 (measured: ≤ 0.02 on 0.4% of pixels; median margin 0.4-0.5).
    assert_same_labels(ref, out, 'bf16', None, tie=0.025)


@pytest.mark.parametrize('bad, message', [
    (dict(precision='fp8'), 'test_cfg.precision must be one of'),
    (dict(channels_last='yes'), 'test_cfg.channels_last must be True or False'),
    (dict(compile='max-autotune'), 'test_cfg.compile must be False, True or a dict'),
])
def test_bad_speed_option_is_named(bad, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny_segmentor(**bad)


def test_fp16_cuda_is_fp32_on_cpu():
    """The paper protocols' 'fp16_cuda' (the authors' fp16 GPU runs) leaves a CPU run in fp32."""
    seg = tiny_segmentor(classes=[f'class {i}' for i in range(10)])
    ref = seg.predict(image())[0].seg_logits.data
    seen = matmul_dtypes(seg)
    seg.test_cfg['precision'] = 'fp16_cuda'
    out = seg.predict(image())[0].seg_logits.data
    assert seen == {torch.float32}
    torch.testing.assert_close(out, ref)
