"""The torchvision stand-in for mmcv's compiled ops, against mmcv's own expected values
(open-mmlab/mmcv tests/test_ops/test_nms.py, test_roi_align.py)."""
import numpy as np
import pytest
import torch

from clipseg.compat import mmcv_ops as mmcv_ops_fallback

pytestmark = pytest.mark.skipif(mmcv_ops_fallback.has_compiled_ops(),
                                reason='a compiled mmcv is installed: the stand-in is not used')


def test_nms_matches_mmcv_expected():
    from mmcv.ops import nms
    boxes = torch.tensor([[6., 3., 8., 7.], [3., 6., 9., 11.], [3., 7., 10., 12.], [1., 4., 13., 7.]])
    scores = torch.tensor([0.6, 0.9, 0.7, 0.2])
    dets, inds = nms(boxes, scores, iou_threshold=0.3, offset=0)
    np.testing.assert_array_equal(inds.numpy(), [1, 0, 3])
    np.testing.assert_allclose(dets.numpy(), [[3, 6, 9, 11, 0.9], [6, 3, 8, 7, 0.6],
                                              [1, 4, 13, 7, 0.2]], rtol=1e-6)


def test_nms_offset_counts_pixels_inclusively():
    # two 2x2-pixel boxes side by side: IoU 0 with offset 0, 1/3 with offset 1 (widths 2 and 3)
    boxes = torch.tensor([[0., 0., 1., 1.], [1., 0., 2., 1.]])
    scores = torch.tensor([0.9, 0.8])
    assert len(mmcv_ops_fallback.nms(boxes, scores, 0.3, offset=0)) == 2
    assert len(mmcv_ops_fallback.nms(boxes, scores, 0.3, offset=1)) == 1


ROI_CASES = [  # (input, rois) → (output, gradient of sum), mmcv's expected values
    ([[[[1., 2.], [3., 4.]]]], [[0., 0., 0., 1., 1.]],
     [[[[1.0, 1.25], [1.5, 1.75]]]], [[[[3.0625, 0.4375], [0.4375, 0.0625]]]]),
    ([[[[1., 2.], [3., 4.]], [[4., 3.], [2., 1.]]]], [[0., 0., 0., 1., 1.]],
     [[[[1.0, 1.25], [1.5, 1.75]], [[4.0, 3.75], [3.5, 3.25]]]],
     [[[[3.0625, 0.4375], [0.4375, 0.0625]], [[3.0625, 0.4375], [0.4375, 0.0625]]]]),
    ([[[[1., 2., 5., 6.], [3., 4., 7., 8.], [9., 10., 13., 14.], [11., 12., 15., 16.]]]],
     [[0., 0., 0., 3., 3.]], [[[[1.9375, 4.75], [7.5625, 10.375]]]],
     [[[[0.47265625, 0.4296875, 0.4296875, 0.04296875], [0.4296875, 0.390625, 0.390625, 0.0390625],
        [0.4296875, 0.390625, 0.390625, 0.0390625], [0.04296875, 0.0390625, 0.0390625, 0.00390625]]]]),
]


@pytest.mark.parametrize('x,rois,out,grad', ROI_CASES)
def test_roi_align_matches_mmcv_expected(x, rois, out, grad):
    from mmcv.ops import roi_align
    x = torch.tensor(x, requires_grad=True)
    y = roi_align(x, torch.tensor(rois), (2, 2), 1.0, 2, 'avg', True)
    y.backward(torch.ones_like(y))
    np.testing.assert_allclose(y.detach().numpy(), out, atol=1e-3)
    np.testing.assert_allclose(x.grad.numpy(), grad, atol=1e-3)


def test_roi_align_gradcheck_and_unsupported_ops_name_themselves():
    from mmcv.ops import RoIAlign, roi_align
    x = torch.rand(1, 2, 5, 6, dtype=torch.double, requires_grad=True)
    rois = torch.tensor([[0., 0.5, 0.3, 4.2, 3.9]], dtype=torch.double)
    assert torch.autograd.gradcheck(RoIAlign((2, 3), 1.0, 2), (x, rois), eps=1e-5, atol=1e-5)
    with pytest.raises(NotImplementedError, match='max mode'):
        roi_align(x.float(), rois.float(), (2, 2), 1.0, 2, 'max', True)
    import sys
    with pytest.raises(NotImplementedError, match="'soft_nms'"):
        sys.modules['mmcv._ext'].soft_nms(torch.zeros(1, 4))


def test_mmdet_models_import_and_install_is_idempotent():
    pytest.importorskip('mmdet')
    import mmdet.models  # noqa: F401  (imports mmcv.ops, which needs mmcv._ext)
    assert mmcv_ops_fallback.install() is True
    assert mmcv_ops_fallback.install() is True


def test_sigmoid_focal_loss_matches_torchvision_and_its_gradient():
    """mmdet calls mmcv's compiled focal loss on a GPU; the stand-in must equal the definition."""
    from mmcv.ops import sigmoid_focal_loss
    from torchvision.ops import sigmoid_focal_loss as reference
    torch.manual_seed(0)
    x = torch.randn(6, 4, dtype=torch.double, requires_grad=True)
    target = torch.tensor([0, 3, 4, 1, 4, 2])            # 4 = background (no positive class)
    loss = sigmoid_focal_loss(x, target, 2.0, 0.25, None, 'sum')
    onehot = torch.nn.functional.one_hot(target, 5)[:, :4].double()
    expected = reference(x, onehot, alpha=0.25, gamma=2.0, reduction='sum')
    torch.testing.assert_close(loss, expected)
    grad, = torch.autograd.grad(loss, x)
    grad_ref, = torch.autograd.grad(expected, x)
    torch.testing.assert_close(grad, grad_ref)


def test_deformable_attention_stand_in_samples_the_planted_pixel_and_has_gradients():
    """One level, one point, weight 1, sampling a pixel's centre → that pixel's value; mmcv's
    autograd Function (the path a GPU takes) runs on the stand-in and passes gradcheck."""
    from mmcv.ops.multi_scale_deform_attn import MultiScaleDeformableAttnFunction as Deform
    H, W, heads, C = 5, 7, 2, 3
    value = torch.randn(1, H * W, heads, C, dtype=torch.float64)
    shapes = torch.tensor([[H, W]])
    start = torch.tensor([0])
    y, x = 3, 5
    loc = torch.tensor([(x + 0.5) / W, (y + 0.5) / H], dtype=torch.float64).expand(1, 1, heads, 1, 1, 2)
    weights = torch.ones(1, 1, heads, 1, 1, dtype=torch.float64)
    out = Deform.apply(value, shapes, start, loc.contiguous(), weights, 64)
    torch.testing.assert_close(out.view(heads, C), value[0, y * W + x])
    loc = torch.rand(1, 4, heads, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    weights = torch.rand(1, 4, heads, 1, 2, dtype=torch.float64, requires_grad=True)
    value.requires_grad_()
    assert torch.autograd.gradcheck(lambda v, l, a: Deform.apply(v, shapes, start, l, a, 64),
                                    (value, loc, weights))
