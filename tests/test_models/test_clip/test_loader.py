import importlib.util
import pytest
import torch

from clipseg.models.clip.loader import WeightsUnavailableError, create_clip
from ...conftest import TINY_RN, TINY_VIT


def test_offline_tag_fails_at_once_with_clear_message(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HOME', '/nonexistent-hf-home')
    with pytest.raises(WeightsUnavailableError, match="'ViT-B-16'.*local file"):
        create_clip('ViT-B-16', 'laion2b_s34b_b88k')


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown open_clip model name 'ViT-B-61'"):
        create_clip('ViT-B-61', None)


def test_unknown_tag_lists_known_ones():
    with pytest.raises(ValueError, match='known tags'):
        create_clip('ViT-B-16', 'not_a_tag')


def test_local_checkpoint_roundtrip(tiny_ckpt):
    model, _ = create_clip('tiny', str(tiny_ckpt), model_cfg=TINY_VIT)
    state = torch.load(tiny_ckpt, weights_only=True)
    torch.testing.assert_close(model.visual.proj, state['visual.proj'])


def test_checkpoint_of_wrong_architecture(tiny_ckpt):
    with pytest.raises(ValueError, match='does not fit CLIP model'):
        create_clip('tiny-rn', str(tiny_ckpt), model_cfg=TINY_RN)


def test_missing_and_corrupt_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        create_clip('tiny', str(tmp_path / 'none.pt'), model_cfg=TINY_VIT)
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='cannot read CLIP checkpoint'):
        create_clip('tiny', str(bad), model_cfg=TINY_VIT)


def test_offline_hf_hub_name_fails_at_once(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_HOME', '/nonexistent-hf-home')
    with pytest.raises(WeightsUnavailableError, match='hf-hub:laion/nothing-here'):
        create_clip('ViT-B-16', 'hf-hub:laion/nothing-here')


# ----- QuickGELU: a local copy of a tag's weights builds the tag's model -------------------------
def test_file_of_openai_weights_builds_the_tags_model(tmp_path):
    import open_clip
    from clipseg.models.clip.loader import override_weights
    tag_gelu = open_clip.get_pretrained_cfg('ViT-B-32', 'openai')['quick_gelu']
    assert tag_gelu is True
    torch.manual_seed(0)
    as_tag = open_clip.create_model('ViT-B-32', force_quick_gelu=tag_gelu).eval()  # what the tag builds
    path = tmp_path / 'openai_vit_b32.bin'
    torch.save(as_tag.state_dict(), path)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        want = as_tag.encode_image(x)
        clip_cfg = override_weights(dict(model_name='ViT-B-32', pretrained='openai', quick_gelu=True),
                                    str(path))               # as --weights FILE on an OpenAI config
        same = create_clip(**clip_cfg)[0].encode_image(x)
        plain = create_clip('ViT-B-32', str(path))[0].encode_image(x)   # GELU: another model
    assert torch.equal(same, want)
    assert not torch.allclose(plain, want, atol=1e-3)


def test_quick_gelu_that_contradicts_a_tag_is_an_error_and_tags_decide():
    from clipseg.models.clip.loader import override_weights
    with pytest.raises(ValueError, match='contradicts .*trained with GELU'):
        create_clip('ViT-B-16', 'laion2b_s34b_b88k', quick_gelu=True)
    cfg = override_weights(dict(model_name='ViT-B-16', pretrained='openai', quick_gelu=True),
                           'laion2b_s34b_b88k')
    assert 'quick_gelu' not in cfg                            # --weights TAG: the tag decides


def test_every_config_with_openai_weights_states_quick_gelu():
    from mmengine.config import Config
    from ...conftest import REPO
    checked = 0
    for path in sorted((REPO / 'configs').rglob('*.py')):
        if '_base_' in path.parts:
            continue
        detection = path.parent.name == 'instances' or any(
            k in path.name for k in ('retinanet', 'mask-rcnn'))
        if detection and importlib.util.find_spec('mmdet') is None:
            continue   # detection configs build on mmdet's bases: absent without mmdet
        clip = Config.fromfile(str(path)).get('model', {}).get('clip', {})
        if clip.get('pretrained') == 'openai':
            assert clip.get('quick_gelu') is True, path.name
            checked += 1
    assert checked > 40


def test_normalisation_comes_from_the_weights_preprocess_config(monkeypatch):
    import open_clip
    from clipseg.models.clip.loader import pixel_mean_std
    from mmseg.registry import MODELS
    model = open_clip.CLIP(**TINY_VIT)
    assert pixel_mean_std(model)[0][0] == pytest.approx(0.48145466 * 255)   # no config: OpenAI's
    model.visual.preprocess_cfg = dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))  # SigLIP's
    assert pixel_mean_std(model) == ([127.5] * 3, [127.5] * 3)
    import clipseg.models.segmentors.zero_shot as zs
    monkeypatch.setattr(zs, 'create_clip', lambda **kw: (model, open_clip.SimpleTokenizer()))
    seg = MODELS.build(dict(type='ZeroShotSegmentor', clip=dict(model_name='siglip-like')))
    assert seg.data_preprocessor.mean.flatten().tolist() == [127.5] * 3
    assert seg.data_preprocessor.std.flatten().tolist() == [127.5] * 3


def test_one_place_decides_file_or_tag(tmp_path, monkeypatch):
    """A tag stays a tag even with a file of its name in the working folder; paths and
    checkpoint suffixes are files; the cache id of a file names its path, size and time."""
    from clipseg.models.clip import weights_id, weights_source
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'openai').write_text('not weights')
    (tmp_path / 'mine').write_bytes(b'x' * 10)
    assert weights_source('openai') == 'tag' and weights_source(None) is None
    assert weights_source('mine') == 'file' and weights_source('a/b') == 'file'
    assert weights_source('w.safetensors') == 'file' and weights_source('hf-hub:o/r') == 'hf-hub'
    assert weights_id('ViT-B-16', 'openai') == 'ViT-B-16:openai'
    assert weights_id('ViT-B-16', 'mine').startswith(f'{tmp_path / "mine"}:10:')
    assert weights_id('ViT-B-16', None) is None


def test_a_missing_tokenizer_package_names_its_extra_and_is_one_line(monkeypatch, capsys):
    """SigLIP without transformers: an error naming the extra, before any weights; the tools
    print it on one line with status 2 (no traceback)."""
    import sys
    from clipseg.utils.errors import MissingPackageError, run_cli
    monkeypatch.setitem(sys.modules, 'transformers', None)      # import transformers fails
    with pytest.raises(MissingPackageError, match=r'clipseg\[siglip\]'):
        create_clip('ViT-B-16-SigLIP', 'webli')
    assert run_cli(lambda: create_clip('ViT-B-16-SigLIP', 'webli')) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and 'clipseg[siglip]' in err and 'Traceback' not in err
