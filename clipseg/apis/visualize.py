"""Paint a label map over its image with a legend, and write outputs atomically."""
import os
from typing import List, Optional, Sequence

import cv2
import numpy as np

from ..utils.atomic import write_atomically
from ..utils.palette import make_palette  # noqa: F401  (re-exported)


def overlay(image: np.ndarray, labels: np.ndarray, names: Sequence[str], share: Sequence[float],
            opacity: float = 0.5, palette: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W, 3) BGR image + (H, W) labels → the blend with a legend strip on the right,
    listing the classes present (colour → name, pixel share). ``palette``: (K, 3) BGR colours
    (default ``make_palette(K)``)."""
    palette = make_palette(len(names)) if palette is None else np.asarray(palette, np.uint8)
    present: List[int] = [k for k in np.argsort(-np.asarray(share)) if share[k] > 0]
    scale = max(0.6, min(1.2, image.shape[0] / 900))    # legend text at least ~14 px high
    row = int(32 * scale) + 4
    width = int(max([cv2.getTextSize(f'{names[k]} {100 * share[k]:.1f}%', cv2.FONT_HERSHEY_SIMPLEX,
                                     scale, 1)[0][0] for k in present] + [100]) + row + 20)
    legend = np.full((max(image.shape[0], row * len(present) + 10), width, 3), 255, np.uint8)
    for j, k in enumerate(present):
        y = 5 + j * row
        cv2.rectangle(legend, (5, y), (5 + row - 6, y + row - 6), palette[k].tolist(), -1)
        cv2.putText(legend, f'{names[k]} {100 * share[k]:.1f}%', (row + 5, y + row - 12),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    canvas = np.full((legend.shape[0], image.shape[1] + width, 3), 255, np.uint8)
    band = max(1, (1 << 24) // max(1, image.shape[1]))   # blend in row bands: no full-size temporaries
    for r0 in range(0, image.shape[0], band):
        rows = slice(r0, min(r0 + band, image.shape[0]))
        canvas[rows, :image.shape[1]] = cv2.addWeighted(image[rows], 1 - opacity,
                                                        palette[labels[rows]], opacity, 0)
    canvas[:, image.shape[1]:] = legend
    return canvas


def legend_panel(names: Sequence[str], palette: np.ndarray, height: int) -> np.ndarray:
    """(h, w, 3) BGR panel listing every class in index order (colour swatch, name), with rows of
    1/16 of ``height`` (at least 12 px), for drawing into a frame whose size must not change."""
    row = max(12, height // 16)
    scale = row / 30
    width = int(max(cv2.getTextSize(n, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] for n in names))
    panel = np.full((row * len(names) + 4, width + row + 8, 3), 255, np.uint8)
    for k, name in enumerate(names):
        y = 2 + k * row
        cv2.rectangle(panel, (2, y + 1), (row - 2, y + row - 2), palette[k].tolist(), -1)
        cv2.putText(panel, name, (row + 3, y + int(row * 0.75)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return panel


def draw_legend(frame: np.ndarray, panel: np.ndarray, opacity: float = 0.85) -> np.ndarray:
    """``panel`` blended into the top-left corner of ``frame`` (cut to the frame); same size out."""
    h, w = min(panel.shape[0], frame.shape[0]), min(panel.shape[1], frame.shape[1])
    frame[:h, :w] = cv2.addWeighted(frame[:h, :w], 1 - opacity, panel[:h, :w], opacity, 0)
    return frame


def save_image(path: str, image: np.ndarray) -> None:
    def write(tmp):
        if not cv2.imwrite(tmp, image):
            raise ValueError(f'cannot write image {path!r}: unsupported extension?')
    write_atomically(path, write)


def save_label_map(path: str, labels: np.ndarray, num_classes: int,
                   classes: Optional[Sequence[str]] = None, sidecar: bool = False) -> None:
    """Palette PNG (≤ 256 classes) of class indices; 16-bit grey PNG beyond. With ``classes``,
    the PNG says what its values mean: a ``clipseg:classes`` text chunk holding the JSON list of
    names in index order (``PIL.Image.open(path).text['clipseg:classes']``). ``sidecar``: also
    ``<name>.json`` next to it with the names and the RGB palette, for tools that drop PNG text."""
    import json
    from PIL import Image, PngImagePlugin
    info = PngImagePlugin.PngInfo()
    if classes is not None:
        info.add_text('clipseg:classes', json.dumps(list(classes), ensure_ascii=False))

    def write(tmp):
        if num_classes <= 256:
            img = Image.fromarray(labels.astype(np.uint8), mode='P')
            img.putpalette(make_palette(num_classes)[:, ::-1].flatten().tolist())
        else:
            img = Image.fromarray(labels.astype(np.uint16), mode='I;16')
        img.save(tmp, format='PNG', pnginfo=info)
    write_atomically(path, write)
    if sidecar:
        meta = dict(image=os.path.basename(path), values='class index per pixel',
                    classes=list(classes) if classes is not None else None,
                    palette_rgb=make_palette(num_classes)[:, ::-1].tolist())

        def write_meta(tmp):
            with open(tmp, 'w', encoding='utf-8') as f:
                json.dump(meta, f, ensure_ascii=False, indent=1)
        write_atomically(os.path.splitext(path)[0] + '.json', write_meta)
