"""The web demo (``demo/web_demo.py``): one handler that segments an uploaded image with typed
classes, and its Gradio page. The model is built once and kept; the text classifier keeps the
class embeddings, so a second request with the same classes costs no text forward."""
import os
import tempfile
import uuid
from contextlib import contextmanager
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..models.text import parse_classes
from .inference import DEFAULT_CONFIG, init_model, list_models, segment
from .visualize import overlay, save_label_map

BACKGROUND = 'background'


class WebDemo:
    """Segments (H, W, 3) RGB uploads with free-text classes, keeping the last model built.

    Args:
        config: config file or name used when a request names none.
        weights: CLIP weights (pretrained tag or local file) used when a request names none.
        checkpoint: trained heads loaded with ``config`` (not with configs picked in the page).
        out_dir: folder for the label maps offered for download (default: a new temp folder).
    """

    def __init__(self, config: str = DEFAULT_CONFIG, weights: Optional[str] = None,
                 checkpoint: Optional[str] = None, device: str = 'cpu',
                 random_heads: bool = False, templates: Optional[str] = None,
                 out_dir: Optional[str] = None):
        self.config, self.weights, self.checkpoint = config, weights, checkpoint
        self.device, self.random_heads, self.templates = device, random_heads, templates
        self.out_dir = out_dir or tempfile.mkdtemp(prefix='clipseg_web_')
        self._model, self._model_key = None, None

    def model(self, config: Optional[str] = None, weights: Optional[str] = None):
        """The segmentor for (config, weights), built on first use and kept until they change."""
        config = config or self.config
        weights = weights or self.weights
        key = (config, weights)
        if key != self._model_key:
            self._model, self._model_key = None, None  # free the old one before building
            options = {}
            if self.random_heads:
                options['model.allow_random_heads'] = True
            if self.templates:
                options['model.templates'] = self.templates
            checkpoint = self.checkpoint if config == self.config else None
            self._model = init_model(config, weights=weights, checkpoint=checkpoint,
                                     device=self.device, cfg_options=options or None)
            self._model_key = key
        return self._model

    def segment(self, image: Optional[np.ndarray], classes: str, config: Optional[str] = None,
                weights: Optional[str] = None, background: bool = False,
                threshold: float = 0.0) -> Tuple[np.ndarray, List[List[str]], str]:
        """(H, W, 3) RGB uint8 image + ``'person;people, bus, car'`` →
        (overlay RGB with legend, rows [class, pixel share, mean probability] largest first,
        path of the label map as a palette PNG).

        ``background`` adds a ``'background'`` class in front (unless typed); with it, pixels
        whose best class probability is below ``threshold`` go to background too.
        """
        if image is None:
            raise ValueError('no image: upload one or pick an example')
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        if image.ndim != 3 or image.shape[2] not in (3, 4) or image.size == 0:
            raise ValueError(f'not an RGB image: array of shape {image.shape}')
        if not (classes or '').strip():
            raise ValueError('no classes: type at least one class name')
        # the page's text is always names, never a file on the server
        names = [';'.join(c) for c in parse_classes(classes.split(','))]
        if threshold and not background:
            raise ValueError("a probability threshold needs the 'background' class to fall back to")
        if background and BACKGROUND not in {n for c in names for n in c.split(';')}:
            names = [BACKGROUND] + names
        model = self.model(config, weights)
        bgr = np.ascontiguousarray(image[..., 2::-1])
        with background_threshold(model, threshold if background else 0.0,
                                  next(i for i, c in enumerate(names)
                                       if BACKGROUND in c.split(';')) if background else 0):
            result = segment(model, bgr, classes=names)
        share, scores = result['pixel_share'], result['class_scores']
        picture = overlay(bgr, result['label_map'], result['classes'], share)[..., ::-1]
        rows = [[result['classes'][k], f'{100 * share[k]:.1f}%', f'{scores[k]:.3f}']
                for k in np.argsort(-share) if share[k] > 0]
        path = os.path.join(self.out_dir, f'labels_{uuid.uuid4().hex[:8]}.png')
        save_label_map(path, result['label_map'], len(result['classes']))
        return np.ascontiguousarray(picture), rows, path


@contextmanager
def background_threshold(model, threshold: float, bg_idx: int):
    """Run with ``test_cfg`` prob_thd/bg_idx set for one request, then restore them."""
    cfg = getattr(model, 'test_cfg', None)
    if cfg is None or 'prob_thd' not in cfg:
        if threshold:
            raise ValueError(f'{type(model).__name__} has no probability threshold')
        yield
        return
    saved = {k: cfg.get(k) for k in ('prob_thd', 'bg_idx')}
    cfg.update(prob_thd=float(threshold), bg_idx=bg_idx)
    try:
        yield
    finally:
        cfg.update(saved)


def build_ui(app: WebDemo, examples: Sequence[str] = ()):
    """The Gradio page over ``app.segment``: image, classes, method and weights, background;
    shows the overlay with its legend, the per-class shares and the label map to download."""
    import gradio as gr

    def handle(image, classes, config, weights, background, threshold):
        try:
            return app.segment(image, classes, config or None, (weights or '').strip() or None,
                               background, threshold)
        except (ValueError, OSError, RuntimeError) as err:
            raise gr.Error(str(err))

    configs = list_models()
    if app.config not in configs:
        configs = [app.config] + configs
    with gr.Blocks(title='clipseg: segment anything you can name') as ui:
        gr.Markdown('## clipseg: segment an image into the classes you type\n'
                    'Classes are comma-separated; synonyms of one class are joined with `;` '
                    '(`person;people, bus, car`).')
        with gr.Row():
            with gr.Column():
                image = gr.Image(type='numpy', label='image', sources=['upload', 'clipboard'],
                                 elem_id='input-image')
                classes = gr.Textbox(label='classes', placeholder='person;people, bus, car, road',
                                     elem_id='classes')
                with gr.Row():
                    config = gr.Dropdown(configs, value=app.config, label='method (config)',
                                         allow_custom_value=True, elem_id='config')
                    weights = gr.Textbox(value=app.weights or '', elem_id='weights',
                                         label="CLIP weights: open_clip tag or local file "
                                               "(empty: the config's)")
                with gr.Row():
                    background = gr.Checkbox(label="add a 'background' class", elem_id='background')
                    threshold = gr.Slider(0.0, 1.0, value=0.0, step=0.05, elem_id='threshold',
                                          label='background below this class probability')
                run = gr.Button('Segment', variant='primary', elem_id='run')
            with gr.Column():
                result = gr.Image(label='segmentation', interactive=False, elem_id='result')
                shares = gr.Dataframe(headers=['class', 'pixels', 'mean probability'],
                                      label='per-class shares', interactive=False,
                                      elem_id='shares')
                labels = gr.File(label='label map (palette PNG)', elem_id='label-map')
        if examples:
            gr.Examples([[p] for p in examples], inputs=[image], label='examples')
        inputs = [image, classes, config, weights, background, threshold]
        run.click(handle, inputs=inputs, outputs=[result, shares, labels])
        classes.submit(handle, inputs=inputs, outputs=[result, shares, labels])
    return ui


def offline_theme():
    """Gradio's default look with system fonts: the stock theme fetches Google Fonts."""
    import gradio as gr
    return gr.themes.Default(font=['ui-sans-serif', 'system-ui', 'sans-serif'],
                             font_mono=['ui-monospace', 'monospace'])
