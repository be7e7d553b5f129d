import pytest
import torch

from clipseg.models.clip_loader import create_clip
from clipseg.models.text import TextClassifier, parse_classes
from ..conftest import TINY_VIT


def make_classifier(**kwargs):
    torch.manual_seed(0)
    model, tok = create_clip('tiny', model_cfg=TINY_VIT)
    return TextClassifier(model, tok, **kwargs)


def test_embeddings_are_template_means():
    clf = make_classifier(templates=['a photo of a {}.', 'a drawing of a {}.'])
    emb = clf(['cat', 'dog'])
    assert emb.queries.shape == (2, 32)
    torch.testing.assert_close(emb.queries.norm(dim=-1), torch.ones(2))
    single = clf.encode_prompts(['a photo of a cat.', 'a drawing of a cat.']).mean(0)
    torch.testing.assert_close(emb.queries[0], single / single.norm())


def test_default_is_80_openai_templates():
    clf = make_classifier()
    assert len(clf.templates) == 80


def test_synonyms_map_to_their_class():
    emb = make_classifier(templates='name_only')(['person; people; man', 'car'])
    assert emb.names == ['person', 'car']
    assert emb.query_class.tolist() == [0, 0, 0, 1]


def test_cache_hit_costs_no_text_forward():
    clf = make_classifier(templates='name_only')
    first = clf('cat,dog')
    n = clf.num_text_forwards
    assert n > 0
    second = clf(['cat', 'dog'])
    assert clf.num_text_forwards == n
    assert torch.equal(first.queries, second.queries)
    clf('cat,bird')
    assert clf.num_text_forwards > n


def test_disk_cache_shared_between_instances(tmp_path):
    a = make_classifier(templates='name_only', model_name='tiny', weights_id='tiny:x',
                        cache_dir=str(tmp_path))
    emb = a('cat,dog').queries
    b = make_classifier(templates='name_only', model_name='tiny', weights_id='tiny:x',
                        cache_dir=str(tmp_path))
    assert torch.equal(b('cat,dog').queries, emb) and b.num_text_forwards == 0
    assert not list(tmp_path.glob('*.tmp'))


def test_random_weights_never_use_disk_cache(tmp_path):
    make_classifier(cache_dir=str(tmp_path), templates='name_only')('cat')
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize('bad,msg', [([], 'empty'), ('', 'blank'), (['cat', '  '], 'blank'),
                                     (['cat', 'Cat'], 'duplicate'), ('car, ;', 'blank')])
def test_bad_class_lists(bad, msg):
    with pytest.raises(ValueError, match=msg):
        parse_classes(bad)


def test_class_file(tmp_path):
    f = tmp_path / 'names.txt'
    f.write_text('background; sky\ncat\n\ndog\n')
    assert parse_classes(str(f)) == [['background', 'sky'], ['cat'], ['dog']]
