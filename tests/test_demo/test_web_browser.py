"""The web demo in a real browser: Debian's headless Chromium driven by Selenium loads the page,
uploads a voc_mini photo, types classes, presses Segment and waits for the result.

Runs (about 20 s) where Debian's browser is installed (``apt-get install chromium
chromium-driver``; CI does), skips with the reason elsewhere; ``CLIPSEG_BROWSER_TESTS=0`` turns it
off. ``CLIPSEG_SCREENSHOT=docs/web_demo.png`` also saves a screenshot of the page.
"""
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..conftest import REPO, write_tiny_config

CHROMIUM, DRIVER = shutil.which('chromium'), shutil.which('chromedriver')
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get('CLIPSEG_BROWSER_TESTS') == '0',
                       reason='browser test turned off (CLIPSEG_BROWSER_TESTS=0)'),
    pytest.mark.skipif(not (CHROMIUM and DRIVER),
                       reason='browser test needs /usr/bin/chromium and chromedriver '
                              '(apt-get install chromium chromium-driver)'),
]
ANY_IMAGE = 'configs/maskclip/maskclip_vit-b16_openai_slide336.py'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path, tiny_ckpt, voc_mini):
    cfg = write_tiny_config(tmp_path, ANY_IMAGE)
    port = _free_port()
    log = open(tmp_path / 'server.log', 'w')
    server_tmp = Path(tempfile.mkdtemp(prefix='clipseg-server-'))   # its and Gradio's temp files
    proc = subprocess.Popen(
        [sys.executable, str(REPO / 'demo' / 'web_demo.py'), '--config', str(cfg),
         '--weights', str(tiny_ckpt), '--templates', 'a_photo_of', '--port', str(port),
         '--examples', str(voc_mini / 'JPEGImages'), '--keep-outputs', '2'],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        env=dict(os.environ, TMPDIR=str(server_tmp)))
    url = f'http://127.0.0.1:{port}/'
    try:
        for _ in range(240):
            if proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail('web demo did not start')
        assert proc.poll() is None, (tmp_path / 'server.log').read_text()
        yield url, server_tmp
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(server_tmp, ignore_errors=True)


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update',
                 '--disable-sync', '--window-size=1400,1150',
                 f'--user-data-dir={tmp_path / "chromium"}'):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    yield driver
    driver.quit()


def _upload(wait, photo):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    upload = wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#input-image input[type=file]')))
    upload.send_keys(str(photo))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#input-image img')))


def test_upload_classes_segment_in_chromium(server, browser, voc_mini):
    server, _ = server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    wait = WebDriverWait(browser, 120)
    browser.get(server)
    _upload(wait, voc_mini / 'JPEGImages' / '2011_000025.jpg')
    # each dropdown's text ends before its arrow (long config names ran under it)
    for name, gap in browser.execute_script("""
        return ['config', 'weights', 'templates'].map(id => {
          const box = document.querySelector('#' + id + ' input');
          const arrow = document.querySelector('#' + id + ' .dropdown-arrow');
          const textEnd = box.getBoundingClientRect().right - parseFloat(getComputedStyle(box).paddingRight);
          return [id, arrow.getBoundingClientRect().left - textEnd];
        });"""):
        assert gap >= 0, f'the {name} text runs {-gap:.0f} px under its arrow'
    box = browser.find_element(By.CSS_SELECTOR, '#classes textarea')
    box.send_keys('bus, car, road;street, sky')
    browser.find_element(By.CSS_SELECTOR, '#run').click()
    result = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, '#result img')))
    assert result.get_attribute('src')
    wait.until(lambda d: d.execute_script(
        "return document.querySelector('#result img').naturalWidth") > 0)
    shares = browser.find_element(By.CSS_SELECTOR, '#shares')
    wait.until(lambda d: '%' in shares.text)
    rows = shares.text.split('mean probability')[-1].split()
    names = rows[0::3]
    assert names and set(names) <= {'bus', 'car', 'road', 'sky'}
    assert sum(float(p.rstrip('%')) for p in rows[1::3]) == pytest.approx(100, abs=0.3)
    link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#label-map a')))
    with urllib.request.urlopen(link.get_attribute('href'), timeout=10) as reply:
        labels = Image.open(io.BytesIO(reply.read()))
    photo = Image.open(voc_mini / 'JPEGImages' / '2011_000025.jpg')
    assert labels.mode == 'P' and labels.size == photo.size
    assert np.array(labels).max() < 4
    shot = os.environ.get('CLIPSEG_SCREENSHOT')
    if shot:
        browser.execute_script('window.scrollTo(0, 0)')
        browser.save_screenshot(shot)


def _call(server, api, data):
    """Gradio's HTTP API as a script would use it: POST the inputs, read the event stream."""
    import httpx
    with httpx.Client(base_url=server, timeout=120) as http:
        event = http.post(f'gradio_api/call/{api}', json={'data': data}).json()['event_id']
        return http.get(f'gradio_api/call/{api}/{event}').text


def test_visitor_cannot_name_server_files(server, browser, voc_mini, tmp_path, tiny_ckpt):
    """The probe's attacks: upload a .py and send its server path as the config; send
    /etc/passwd as the weights. Both are refused, nothing runs, no server path comes back; the
    page's config names no server path either; the label-map file is gone once served."""
    import httpx
    server, server_tmp = server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
    marker = tmp_path / 'VISITOR_CODE_RAN'
    evil = tmp_path / 'evil.py'
    evil.write_text(f'open({str(marker)!r}, "w").close()\n')
    with httpx.Client(base_url=server, timeout=60) as http:
        files = [('files', open(evil, 'rb')),
                 ('files', open(voc_mini / 'JPEGImages' / '2011_000025.jpg', 'rb'))]
        evil_path, photo_path = http.post('gradio_api/upload', files=files).json()
        page_config = http.get('config').text
    photo = {'path': photo_path, 'meta': {'_type': 'gradio.FileData'}}
    attack = _call(server, 'segment', [photo, 'bus, car', evil_path, '', False, 0, ''])
    assert 'event: error' in attack and 'choose one of the offered' in attack, attack
    passwd = _call(server, 'segment', [photo, 'bus, car', None, '/etc/passwd', False, 0, ''])
    assert 'event: error' in passwd and 'weights: choose' in passwd, passwd
    templates = _call(server, 'segment', [photo, 'bus, car', None, '', False, 0, '/etc/passwd'])
    assert 'event: error' in templates and 'prompt templates: choose' in templates, templates
    for answer in (attack, passwd, templates, page_config):
        assert evil_path not in answer and '/etc/passwd' not in answer
        for secret in (str(REPO), str(tmp_path), str(voc_mini)):
            at = answer.find(secret)
            assert at < 0, answer[max(0, at - 200):at + 100]
    assert 'choose' in attack and str(server_tmp) not in attack + passwd
    assert str(tiny_ckpt.parent) not in page_config
    assert not marker.exists()
    ok = _call(server, 'segment', [photo, 'bus, car', None, '', False, 0, ''])
    assert 'event: complete' in ok, ok
    time.sleep(4)          # a script's call runs no .then(): the --keep-outputs timer removes it
    assert list(server_tmp.glob('clipseg_web_*/labels_*.png')) == []
    # in the page: the weights box refuses a typed path the same way, with a path-free message
    from selenium.common.exceptions import StaleElementReferenceException
    wait = WebDriverWait(browser, 120, ignored_exceptions=(StaleElementReferenceException,))
    browser.get(server)
    _upload(wait, voc_mini / 'JPEGImages' / '2011_000025.jpg')
    browser.find_element(By.CSS_SELECTOR, '#classes textarea').send_keys('bus, car')
    box = browser.find_element(By.CSS_SELECTOR, '#weights input')
    box.clear()
    box.send_keys('/etc/passwd')
    browser.find_element(By.CSS_SELECTOR, '#run').click()
    # the message's text is read inside the wait: the toast may be re-rendered (and read empty) later
    toast = wait.until(lambda d: [t for t in (e.text for e in d.find_elements(
        By.CSS_SELECTOR, '.toast-body, .toast-wrap')) if 'weights' in t])
    assert '/etc/passwd' not in toast[0] and 'choose' in toast[0]
