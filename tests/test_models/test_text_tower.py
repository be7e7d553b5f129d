"""The text tower runs a causal CLIP text transformer only up to the last end-of-text token."""
import open_clip
import torch

from clipseg.models.clip import create_clip
from clipseg.models.text.text_tower import TextTower
from ..conftest import TINY_SIGLIP, TINY_VIT


def test_truncated_encoding_equals_the_full_context():
    model, tok = create_clip('tiny', model_cfg=TINY_VIT)
    tower = TextTower(model)
    tokens = tok(['a photo of a cat.', 'a bad photo of the large motorbike on a road.', 'dog'])
    assert tower.used_length(tokens) == int(tokens.argmax(-1).max()) + 1 < 77
    with torch.no_grad():
        full = model.encode_text(tokens)                  # open_clip's own, all 77 positions
        short = tower.encode_text(tokens)
    torch.testing.assert_close(short, full, atol=1e-6, rtol=0)


def test_non_causal_towers_keep_the_full_context():
    model, tok = create_clip('tiny', model_cfg=TINY_SIGLIP)
    tower = TextTower(model)
    tokens = tok(['a photo of a cat.'])
    assert tower.used_length(tokens) is None
    with torch.no_grad():
        torch.testing.assert_close(tower.encode_text(tokens), model.encode_text(tokens))


def test_classifier_batches_by_length_and_keeps_the_order():
    from clipseg.models.text import TextClassifier
    model, tok = create_clip('tiny', model_cfg=TINY_VIT)
    clf = TextClassifier(model, tok, templates='openai_imagenet', batch_size=16)
    names = ['cat', 'a very long name of a rather unusual household object', 'dog']
    prompts = [t.format(n) for n in names for t in clf.templates]
    with torch.no_grad():
        want = torch.nn.functional.normalize(model.encode_text(tok(prompts)).float(), dim=-1)
    torch.testing.assert_close(clf.encode_prompts(prompts), want, atol=1e-6, rtol=0)
