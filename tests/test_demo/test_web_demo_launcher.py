"""demo/web_demo.py: a warning and an optional login when served beyond localhost."""
import importlib.util

import pytest

from ..conftest import REPO


@pytest.fixture
def launcher(monkeypatch):
    spec = importlib.util.spec_from_file_location('web_demo', REPO / 'demo' / 'web_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    launched = {}

    class Stub:
        def __init__(self, *args, **kwargs):
            pass

        def model(self):
            return None

    class Page:
        def launch(self, **kwargs):
            launched.update(kwargs)

    monkeypatch.setattr(module, 'WebDemo', Stub)
    monkeypatch.setattr(module, 'build_ui', lambda app, examples: Page())
    monkeypatch.setattr(module, 'offline_theme', lambda: None)
    return module, launched


def test_beyond_localhost_it_warns_and_takes_a_login(launcher, tmp_path, capsys):
    module, launched = launcher
    assert module.main(['--examples', str(tmp_path)]) == 0
    assert launched['server_name'] == '127.0.0.1' and launched['auth'] is None
    assert launched['quiet'] is True                     # no "set share=True" hint from Gradio
    printed = capsys.readouterr()
    assert 'WARNING' not in printed.err and 'serving the page on http://127.0.0.1:7860/' in printed.out
    assert module.main(['--host', '0.0.0.0', '--examples', str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert 'WARNING: serving on 0.0.0.0' in err and 'no login (--auth-file)' in err
    users = tmp_path / 'users.txt'
    users.write_text('\ufeffana:s3cret:x\nbo:pw\n')
    assert module.main(['--host', '0.0.0.0', '--auth-file', str(users), '--examples', str(tmp_path)]) == 0
    assert launched['auth'] == [('ana', 's3cret:x'), ('bo', 'pw')]
    assert 'no login' not in capsys.readouterr().err
    users.write_text('just-a-name\n')
    assert module.main(['--auth-file', str(users)]) == 2
    assert 'user:password' in capsys.readouterr().err


def test_uploads_are_decoded_under_the_pixel_limit(launcher, tmp_path):
    import warnings
    from PIL import Image
    module, _ = launcher
    saved = Image.MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            module.guard_uploads(1000)
            Image.new('RGB', (40, 40)).save(tmp_path / 'a.png')
            with pytest.raises(Image.DecompressionBombWarning):
                Image.open(tmp_path / 'a.png')       # what Gradio does with an upload
    finally:
        Image.MAX_IMAGE_PIXELS = saved
        from clipseg.utils.image_io import set_max_pixels
        set_max_pixels(None)
