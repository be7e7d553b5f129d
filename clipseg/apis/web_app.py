"""The web demo (``demo/web_demo.py``): one handler that segments an uploaded image with typed
classes, and its Gradio page. The model is built once and kept; the text classifier keeps the
class embeddings, so a second request with the same classes costs no text forward.

A visitor chooses nothing that reaches the file system: the method is one of the shipped config
names or of the config files the operator listed at start (by name), the weights are an open_clip
pretrained tag or a file of the operator's weights folder (by file name). Errors and page values
carry no server paths; each request's label-map file is removed once the page has it; images
above the pixel limit are refused.
"""
import atexit
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..models.clip import known_tags
from ..models.text import background_first, parse_classes
from ..models.text.templates import TEMPLATE_SETS
from ..utils.image_io import check_pixels, max_pixels
from .configs import DEFAULT_CONFIG, find_config, list_models
from .inference import init_model, segment
from .visualize import make_palette, overlay, save_label_map

BACKGROUND = 'background'
WEIGHTS_SUFFIXES = ('.pt', '.pth', '.bin', '.safetensors')
LOCAL_HOSTS = ('127.0.0.1', 'localhost', '::1')
MAX_PAGE_CLASSES = 256          # a visitor's text cannot order unbounded text encoding
_PATH = re.compile(r"(?<![^\s'\"`(\[{=])(?:[A-Za-z]:)?(?:[/\\][^\s'\"`,;:()\[\]{}<>]+)+")
log = logging.getLogger(__name__)


class RequestError(ValueError):
    """A request the page cannot serve; its message is safe to show to the visitor."""


def scrub_paths(message: str) -> str:
    """``message`` with every absolute path replaced by its last component."""
    return _PATH.sub(lambda m: os.path.basename(m.group().rstrip('/\\')) or '<path>', message)


class WebDemo:
    """Segments (H, W, 3) RGB uploads with free-text classes, keeping the last model built.

    Args:
        config: the default method: a shipped config name or a config file (shown by its name).
        weights: default CLIP weights: pretrained tag or local file (shown by its file name).
        checkpoint: trained heads loaded with ``config`` (not with configs picked in the page).
        out_dir: folder for the label maps offered for download (default: a new temp folder);
            each file is removed once the page has taken it (``forget``).
        configs: more config files the page may offer (the operator's; shown by name).
        weights_dir: a folder whose weight files (``.pt .pth .bin .safetensors``) the page may
            offer by file name.
        keep_outputs: seconds a label-map file stays at most (the page takes its copy at once and
            removes it then; a script calling the API never does, so a timer removes it).
    """

    def __init__(self, config: str = DEFAULT_CONFIG, weights: Optional[str] = None,
                 checkpoint: Optional[str] = None, device: str = 'cpu',
                 random_heads: bool = False, templates: Optional[str] = None,
                 out_dir: Optional[str] = None, configs: Sequence[str] = (),
                 weights_dir: Optional[str] = None, keep_outputs: float = 60.0):
        self.checkpoint, self.device, self.keep_outputs = checkpoint, device, keep_outputs
        self.random_heads, self.templates = random_heads, templates
        self.out_dir = out_dir
        if out_dir is None:                       # ours: removed with what is left in it at exit
            self.out_dir = tempfile.mkdtemp(prefix='clipseg_web_')
            atexit.register(shutil.rmtree, self.out_dir, True)
        self.configs: Dict[str, str] = {name: name for name in list_models()}
        self.config = self._add_config(config)
        for extra in configs:
            self._add_config(extra)
        self.weight_files: Dict[str, str] = {}
        if weights_dir:
            for name in sorted(os.listdir(weights_dir)):
                path = os.path.join(weights_dir, name)
                if name.endswith(WEIGHTS_SUFFIXES) and os.path.isfile(path):
                    self.weight_files[name] = os.path.abspath(path)
        self.weights = None                      # the label shown for the default weights
        self._default_weights = weights          # what it stands for
        if weights:
            self.weights = weights
            if weights not in known_tags() or os.sep in weights:
                self.weights = os.path.basename(weights)
                self.weight_files.setdefault(self.weights, os.path.abspath(weights))
        self._model, self._model_key = None, None

    def _add_config(self, config: str) -> str:
        """Offer ``config`` (a shipped name or the operator's file) and return its page label."""
        if config in self.configs and self.configs[config] == config:
            return config
        find_config(config)                      # the operator's file must load now
        label = os.path.splitext(os.path.basename(config))[0]
        if label in self.configs and self.configs[label] != config:
            label = f'{label} (local)'
        self.configs[label] = config
        return label

    # ----- what a request may name ------------------------------------------------------------
    def config_source(self, label: Optional[str]) -> str:
        label = label or self.config
        if label not in self.configs:
            raise RequestError('method: choose one of the offered configs')
        return self.configs[label]

    def weights_source(self, label: Optional[str]) -> Optional[str]:
        """'' → the default; a file label → its path; else an open_clip pretrained tag."""
        label = (label or '').strip()
        if not label or label == self.weights:
            return self.weight_files.get(self.weights, self._default_weights) if self.weights else None
        if label in self.weight_files:
            return self.weight_files[label]
        if label in known_tags():
            return label
        raise RequestError('weights: choose an offered weights file or type an open_clip '
                           'pretrained tag (e.g. openai, laion2b_s34b_b88k)')

    def templates_source(self, label: Optional[str]) -> Optional[str]:
        """'' → the demo's default (``--templates``, else the config's); else a shipped set."""
        label = (label or '').strip()
        if not label:
            return self.templates
        if label not in TEMPLATE_SETS:
            raise RequestError('prompt templates: choose one of ' + ', '.join(sorted(TEMPLATE_SETS)))
        return label

    def model(self, config: Optional[str] = None, weights: Optional[str] = None,
              templates: Optional[str] = None):
        """The segmentor for the page's (config, weights, template set) labels, built on first
        use and kept until they change."""
        source = self.config_source(config)
        weights_path = self.weights_source(weights)
        template_set = self.templates_source(templates)
        key = (source, weights_path, template_set)
        if key != self._model_key:
            self._model, self._model_key = None, None  # free the old one before building
            options = {}
            if self.random_heads:
                options['model.allow_random_heads'] = True
            if template_set:
                options['model.templates'] = template_set
            checkpoint = self.checkpoint if source == self.configs[self.config] else None
            self._model = init_model(source, weights=weights_path, checkpoint=checkpoint,
                                     device=self.device, cfg_options=options or None)
            self._model_key = key
        return self._model

    def segment(self, image: Optional[np.ndarray], classes: str, config: Optional[str] = None,
                weights: Optional[str] = None, background: bool = False,
                threshold: float = 0.0, templates: Optional[str] = None
                ) -> Tuple[np.ndarray, List[List[str]], str]:
        """(H, W, 3) RGB uint8 image + ``'person;people, bus, car'`` →
        (overlay RGB with legend, rows [class, pixel share, mean probability] largest first,
        path of the label map as a palette PNG).

        ``background`` adds a ``'background'`` class in front (unless typed); with it, pixels
        whose best class probability is below ``threshold`` go to background too. ``templates``:
        a shipped prompt-template set (``'a_photo_of'`` encodes 80× less text than the 80
        ImageNet templates); empty: the demo's default.
        """
        if image is None:
            raise RequestError('no image: upload one or pick an example')
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        if image.ndim != 3 or image.shape[2] not in (3, 4) or image.size == 0:
            raise RequestError(f'not an RGB image: array of shape {image.shape}')
        check_pixels(image.shape[1], image.shape[0], 'upload')
        if not (classes or '').strip():
            raise RequestError('no classes: type at least one class name')
        # the page's text is always names, never a file on the server
        parsed = parse_classes(classes.split(','))
        if len(parsed) > MAX_PAGE_CLASSES:
            raise RequestError(f'{len(parsed)} classes: the page takes at most {MAX_PAGE_CLASSES}')
        if not 0.0 <= float(threshold or 0.0) <= 1.0:
            raise RequestError('the probability threshold must lie between 0 and 1')
        if threshold and not background:
            raise RequestError("a probability threshold needs the 'background' class to fall back to")
        typed = parsed
        if background:                       # class 0: typed or added
            parsed = background_first(parsed, BACKGROUND)
        names = [';'.join(c) for c in parsed]
        colours = page_colours(typed, parsed)
        model = self.model(config, weights, templates)
        bgr = np.ascontiguousarray(image[..., 2::-1])
        # a model without a threshold refuses with a ValueError, which ``handle`` turns into the
        # page's message like every other refusal
        result = segment(model, bgr, classes=names,
                         prob_thd=float(threshold or 0.0) if background else 0.0, bg_idx=0)
        share, scores = result['pixel_share'], result['class_scores']
        picture = overlay(bgr, result['label_map'], result['classes'], share,
                          palette=colours)[..., ::-1]
        rows = [[result['classes'][k], f'{100 * share[k]:.1f}%', f'{scores[k]:.3f}']
                for k in np.argsort(-share) if share[k] > 0]
        path = os.path.join(self.out_dir, f'labels_{uuid.uuid4().hex[:8]}.png')
        save_label_map(path, result['label_map'], len(result['classes']), result['classes'])
        if self.keep_outputs is not None:
            timer = threading.Timer(self.keep_outputs, self.forget, [path])
            timer.daemon = True
            timer.start()
        return np.ascontiguousarray(picture), rows, path

    def forget(self, path: Optional[str]) -> None:
        """Remove a label-map file this demo wrote (once the page has its copy)."""
        if path and os.path.dirname(os.path.abspath(path)) == os.path.abspath(self.out_dir):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def handle(self, *request):
        """``segment`` for the page: every refusal becomes a message without server paths."""
        try:
            return self.segment(*request)
        except RequestError:
            raise
        except (ValueError, OSError, RuntimeError) as err:
            raise RequestError(scrub_paths(str(err))) from None
        except Exception:  # noqa: BLE001 - the visitor sees no internals
            log.exception('web demo request failed')
            raise RequestError('the request failed on the server') from None


BACKGROUND_BGR = (128, 128, 128)


def page_colours(typed: List[List[str]], order: List[List[str]]) -> np.ndarray:
    """(K, 3) BGR colours for the classes in model ``order``, keyed by their place in what the
    visitor typed: ticking 'add background' (which puts a class in front) recolours nothing; an
    added background is grey."""
    base = make_palette(len(typed))
    return np.array([base[typed.index(c)] if c in typed else BACKGROUND_BGR for c in order],
                    np.uint8)


def _offered_only(dropdown, what: str) -> None:
    """A dropdown that refuses values it does not offer without echoing them (Gradio's own
    message repeats the value, which may be a server path)."""
    import gradio as gr
    original = dropdown.preprocess

    def preprocess(payload):
        if payload not in (None, '') and payload not in [v for _, v in dropdown.choices]:
            raise gr.Error(f'{what}: choose one of the offered values')
        return original(payload)
    dropdown.preprocess = preprocess


def build_ui(app: WebDemo, examples: Sequence[str] = ()):
    """The Gradio page over ``app.segment``: image, classes, method and weights, background;
    shows the overlay with its legend, the per-class shares and the label map to download."""
    import gradio as gr

    def handle(image, classes, config, weights, background, threshold, templates,
               progress=gr.Progress(track_tqdm=True)):
        """The page shows the server's progress bars (text encoding: "encoding class prompts",
        the slowest step on a CPU) instead of a bare spinner."""
        try:
            picture, rows, path = app.handle(image, classes, config or None,
                                             (weights or '').strip() or None, background, threshold,
                                             templates or None)
        except RequestError as err:
            raise gr.Error(str(err)) from None
        return picture, rows, path, path

    weight_choices = [''] + sorted(app.weight_files)
    if app.weights and app.weights not in weight_choices:
        weight_choices.insert(1, app.weights)
    limit = max_pixels()
    # Gradio's copies of results are deleted an hour after they were made, checked every 10 min
    with gr.Blocks(title='clipseg: segment anything you can name', delete_cache=(600, 3600)) as ui:
        gr.Markdown('## clipseg: segment an image into the classes you type\n'
                    'Classes are comma-separated; synonyms of one class are joined with `;` '
                    '(`person;people, bus, car`).'
                    + (f' Images up to {limit / 1e6:.0f} megapixels.' if limit else ''))
        with gr.Row():
            with gr.Column():
                image = gr.Image(type='numpy', label='image', sources=['upload', 'clipboard'],
                                 elem_id='input-image')
                classes = gr.Textbox(label='classes', placeholder='person;people, bus, car, road',
                                     elem_id='classes')
                with gr.Row():
                    config = gr.Dropdown(list(app.configs), value=app.config,
                                         label='method (config)', elem_id='config')
                    _offered_only(config, 'method')
                    weights = gr.Dropdown(weight_choices, value=app.weights or '',
                                          allow_custom_value=True, elem_id='weights',
                                          label="CLIP weights: a file offered here or an open_clip "
                                                "tag (empty: the default)")
                templates = gr.Dropdown([''] + sorted(TEMPLATE_SETS), value=app.templates or '',
                                        elem_id='templates',
                                        label="prompt templates (empty: the method's; a_photo_of "
                                              'encodes 80x less text, much faster on a CPU)')
                _offered_only(templates, 'prompt templates')
                with gr.Row():
                    background = gr.Checkbox(label="add a 'background' class", elem_id='background')
                    threshold = gr.Slider(0.0, 1.0, value=0.0, step=0.05, elem_id='threshold',
                                          label='background below this class probability')
                run = gr.Button('Segment', variant='primary', elem_id='run')
            with gr.Column():
                # no corner buttons: they covered the legend's top rows (the label map below is
                # the download)
                result = gr.Image(label='segmentation', interactive=False, elem_id='result',
                                  buttons=[])
                shares = gr.Dataframe(headers=['class', 'pixels', 'mean probability'],
                                      label='per-class shares', interactive=False,
                                      elem_id='shares')
                labels = gr.File(label='label map (palette PNG)', elem_id='label-map')
        written = gr.State(None)
        if examples:
            gr.Examples([[p] for p in examples], inputs=[image], label='examples')
        inputs = [image, classes, config, weights, background, threshold, templates]
        outputs = [result, shares, labels, written]
        for event, name in ((run.click, 'segment'), (classes.submit, False)):
            event(handle, inputs=inputs, outputs=outputs, api_name=name).then(
                app.forget, inputs=[written], outputs=None, api_name=False)
    return ui


# Gradio draws a dropdown's arrow over the right end of its text box, and long config names and
# weight files ran under it: the text now stops before the arrow and ends in an ellipsis.
PAGE_CSS = """
#config input, #weights input, #templates input {
  padding-right: 24px !important; text-overflow: ellipsis;
}
"""


def offline_theme():
    """Gradio's default look with system fonts: the stock theme fetches Google Fonts."""
    import gradio as gr
    return gr.themes.Default(font=['ui-sans-serif', 'system-ui', 'sans-serif'],
                             font_mono=['ui-monospace', 'monospace'])
