import pytest
import torch

from clipseg.models.clip.loader import create_clip
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


# ----- no silent misreading -----------------------------------------------------------------------
def test_missing_names_file_is_an_error_not_a_class():
    with pytest.raises(FileNotFoundError, match="names file not found: 'myclasses.txt'"):
        parse_classes('myclasses.txt')
    with pytest.raises(FileNotFoundError, match='not found'):
        parse_classes('./lists/names')
    assert parse_classes('tv/monitor,cat') == [['tv/monitor'], ['cat']]   # a comma: a list


def test_a_name_in_two_classes_is_an_error_unless_allowed():
    with pytest.raises(ValueError, match="'dog' is given to two classes, 'cat' .* and 'dog'"):
        parse_classes(['cat; dog', 'dog'])
    with pytest.raises(ValueError, match="'Puppy' is given to two classes"):
        parse_classes(['cat; puppy', 'dog; Puppy'])
    assert parse_classes(['background; bed', 'bed'], allow_shared_names=True) == [
        ['background', 'bed'], ['bed']]


def test_names_longer_than_the_text_context_are_an_error():
    clf = make_classifier(templates='a_photo_of')
    long_a = ' '.join(['word'] * 80) + ' cat'
    with pytest.raises(ValueError, match='too long for the text tower.*context holds 77'):
        clf([long_a, 'dog'])
    assert clf.num_text_forwards == 0                    # refused before any encoding
    fits = ' '.join(['word'] * 60)                       # 60 + 5 template tokens + 2 < 77
    assert clf([fits, 'dog']).queries.shape[0] == 2


def test_progress_bar_for_long_prompt_lists(capsys):
    clf = make_classifier()                              # 80 templates × 4 classes = 320 prompts
    clf('cat,dog,car,bus')
    assert 'encoding class prompts' in capsys.readouterr().err
    make_classifier()('cat,dog')                         # 160 prompts: quiet
    assert 'encoding class prompts' not in capsys.readouterr().err


# ----- caches that heal ---------------------------------------------------------------------------
def _cached(tmp_path):
    return make_classifier(templates='name_only', model_name='tiny', weights_id='tiny:x',
                           cache_dir=str(tmp_path))


def _corruptions(good: torch.Tensor):
    nan = good.clone()
    nan[0, 0] = float('nan')
    return {
        'garbage': lambda p: p.write_bytes(b'\x80\x04garbage that is not a pickle'),
        'empty': lambda p: p.write_bytes(b''),
        'a plain dict': lambda p: torch.save({'a': 1}, p),
        'a bare tensor (old format)': lambda p: torch.save(good, p),
        'wrong shape': lambda p: torch.save(dict(torch.load(p), embeddings=good[:1],
                                                 shape=[1, good.shape[1]]), p),
        'NaN': lambda p: torch.save(dict(torch.load(p), embeddings=nan), p),
        'not unit norm': lambda p: torch.save(dict(torch.load(p), embeddings=good * 3), p),
        'another key': lambda p: torch.save(dict(torch.load(p), key='other'), p),
    }


@pytest.mark.parametrize('kind', list(_corruptions(torch.ones(1, 1))))
def test_corrupt_cache_entry_is_reported_recomputed_and_rewritten(tmp_path, kind):
    want = _cached(tmp_path)('cat,dog').queries
    (path,) = tmp_path.glob('*.pt')
    _corruptions(want)[kind](path)
    clf = _cached(tmp_path)
    with pytest.warns(UserWarning, match=f'text cache file {path}'):
        got = clf('cat,dog').queries
    assert clf.num_text_forwards > 0
    torch.testing.assert_close(got, want)
    fresh = _cached(tmp_path)                            # the file was rewritten: a clean hit
    torch.testing.assert_close(fresh('cat,dog').queries, want)
    assert fresh.num_text_forwards == 0


def test_unwritable_cache_folder_warns_once_and_goes_on(tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('x')
    clf = make_classifier(templates='name_only', model_name='tiny', weights_id='tiny:x',
                          cache_dir=str(blocker / 'cache'))
    with pytest.warns(UserWarning, match='not writable.*without the disk cache') as record:
        a = clf('cat,dog').queries
        clf('cat,bird')
    assert len([w for w in record if 'not writable' in str(w.message)]) == 1
    torch.testing.assert_close(a, make_classifier(templates='name_only')('cat,dog').queries)


def test_text_side_shares_the_model_and_leaves_it_untouched():
    model, tok = create_clip('tiny', model_cfg=TINY_VIT)
    visual = model.visual
    clf = TextClassifier(model, tok, templates='name_only')
    assert model.visual is visual                              # not replaced
    assert clf.clip.token_embedding is model.token_embedding   # shared, not copied
    assert not any('visual' in k for k in clf.state_dict())
    with torch.no_grad():
        want = torch.nn.functional.normalize(model.encode_text(tok(['cat'])), dim=-1)
    torch.testing.assert_close(clf('cat').queries, want)


def test_a_full_disk_under_the_cache_warns_and_goes_on(tmp_path, monkeypatch):
    """torch.save on a full disk raises RuntimeError (not OSError): the run must go on."""
    def full_disk(obj, f, *a, **k):
        open(f, 'wb').write(b'PK\x03\x04 half')
        raise RuntimeError('[enforce fail at inline_container.cc:672] . PytorchStreamWriter '
                           'failed writing file data/0: file write failed')
    want = make_classifier(templates='name_only')('cat,dog').queries
    clf = _cached(tmp_path)
    monkeypatch.setattr(torch, 'save', full_disk)
    with pytest.warns(UserWarning, match='not writable .*PytorchStreamWriter.*without the disk cache'):
        got = clf('cat,dog').queries
    torch.testing.assert_close(got, want)
    assert list(tmp_path.iterdir()) == []                       # no half-written entry
