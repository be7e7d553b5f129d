"""A normal run prints none of the known third-party noise."""
import pytest
import os
import subprocess
import sys

from ..conftest import REPO, write_tiny_config

NOISE = ('Could not import OneDL', 'MultiScaleDeformableAttention', 'mmcv-lite',
         'No pretrained weights loaded', 'Using env variable')


def _run(args):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    env['HF_HUB_OFFLINE'] = '1'
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.slow
def test_help_and_a_demo_run_are_free_of_noise(tmp_path, tiny_ckpt, voc_mini):
    for args in (['demo/image_demo.py', '--help'], ['tools/test.py', '--help']):
        out = _run(args)
        assert out.returncode == 0
        assert not [n for n in NOISE if n in out.stdout + out.stderr], out.stdout + out.stderr
    cfg = write_tiny_config(tmp_path, 'configs/maskclip/maskclip_vit-b16_openai_slide336.py')
    out = _run(['demo/image_demo.py', str(voc_mini / 'JPEGImages' / '2011_000003.jpg'),
                '--classes', 'person,bottle', '--config', str(cfg), '--weights', str(tiny_ckpt),
                '--templates', 'a_photo_of', '--out', str(tmp_path / 'o.png')])
    assert out.returncode == 0, out.stderr
    assert out.stderr == '', out.stderr
    assert out.stdout.splitlines()[-1] == f'wrote {tmp_path / "o.png"}'


def test_metric_and_visualisation_notices_are_dropped_exactly(capsys):
    """IoUMetric's missing-prefix warning and the VisualizationHook's 'draw is False' warning are
    dropped; the same warning of another metric class still comes through."""
    import logging
    import warnings
    import clipseg  # noqa: F401
    from mmengine.evaluator.metric import print_log
    from mmengine.logging import MMLogger
    from mmseg.evaluation import IoUMetric
    logger = MMLogger.get_instance('quiet_test', log_level='WARNING')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        IoUMetric()
        print_log('The prefix is not set in metric class OtherMetric.', logger='current',
                  level=logging.WARNING)
    finally:
        logger.removeHandler(handler)
    messages = [r.getMessage() for r in records]
    assert not [m for m in messages if 'IoUMetric' in m], messages
    assert any('OtherMetric' in m for m in messages), messages
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('default')
        import clipseg.compat.quiet as quiet
        quiet.filter_warnings()
        from mmseg.engine.hooks import SegVisualizationHook
        from mmseg.visualization import SegLocalVisualizer
        SegLocalVisualizer.get_instance('quiet_test_visualizer')
        SegVisualizationHook(draw=False)
    assert not [w for w in caught if 'draw is False' in str(w.message)]
