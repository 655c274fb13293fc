"""`python -m alexnet_viz visualize`: a folder of feature visualisations for many units of one layer.

Each unit's picture is written as soon as it is done, so an interrupted run resumes where it
stopped (units whose PNG exists are skipped), and the disk cache of alexnet_viz.analysis.featviz makes
rerunning a finished unit free anyway. The folder remembers its settings: mixing two settings in
one gallery would make its pictures incomparable, so that is refused.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import cast

import numpy as np
from tqdm import tqdm

from alexnet_viz.analysis.featviz import DEFAULT, Settings, cached_visualize
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.device import pick_device
from alexnet_viz.core.provenance import Provenance, weights_id
from alexnet_viz.core.spec import ARTICLE, Spec
from alexnet_viz.core.weights import default_weights, load_model
from alexnet_viz.core.weightschoice import WeightsChoice
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures.mosaic import png_bytes, tile_rgb


def parse_channels(text: str, units: int) -> list[int]:
    """ "0-31", "3,7,9-11" or "all" -> sorted unit numbers, each checked against the layer's count."""
    if text.strip().lower() == "all":
        return list(range(units))
    chosen: set[int] = set()
    try:
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            first, last = int(lo), int(hi if dash else lo)
            chosen.update(range(first, last + 1))
    except ValueError:
        raise AlexVizError(f"--channels {text!r} is not a list like 0-31 or 3,7,9-11 (or all).") from None
    bad = sorted(c for c in chosen if not 0 <= c < units)
    if bad or not chosen:
        raise AlexVizError(f"--channels {text!r}: this layer has units 0 to {units - 1}.")
    return sorted(chosen)


def _settings_file(out: Path, record: dict) -> None:
    path = out / "settings.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old != record:
            raise AlexVizError(f"{out} holds a gallery made with other settings ({path}); choose another --out "
                               "folder or the same settings.")
        return
    path.write_text(json.dumps(record, indent=2) + "\n")


def gallery(layer: str, channels: str, out: str | Path, *, settings: Settings = DEFAULT, spec: Spec = ARTICLE,
            weights: WeightsChoice | None = None, device: str | None = None) -> Path:
    """Visualise the units `channels` of `layer` into `out` (one PNG each, plus gallery.png); returns it.

    No `weights`: default_weights() ($ALEXNET_WEIGHTS, else ImageNet's when cached, else random).
    """
    model = load_model(spec, weights or default_weights(), device=pick_device(device))
    if layer not in model.layer_names:
        raise AlexVizError(f"Unknown layer {layer!r}: choose one of {', '.join(model.layer_names)}.")
    units = parse_channels(channels, ledger(model.spec).row(layer).out_shape[0])
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlexVizError(f"Cannot create {folder} ({exc.strerror or exc}); choose a writable --out folder.") from exc
    _settings_file(folder, {"variant": spec.name, "weights": weights_id(model), "layer": layer,
                            "settings": asdict(settings)})
    files = {c: folder / f"{spec.name}_{layer}_{c:04d}.png" for c in units}
    todo = [c for c in units if not files[c].is_file()]
    if len(todo) < len(units):
        print(f"{len(units) - len(todo)} of {len(units)} units already done in {folder}; skipping them.",
              file=sys.stderr)
    with tqdm(total=len(todo) * settings.steps, unit="step", file=sys.stderr, disable=None) as bar:
        for c in todo:
            bar.set_description(f"{layer} unit {c}")
            finished = bar.n + settings.steps
            result = cached_visualize(model, layer, c, settings, progress=lambda step, total: bar.update(1))
            bar.update(finished - bar.n)  # a unit read from the cache counts as done at once
            tiles = tile_rgb(result.images, gap=2)
            files[c].write_bytes(png_bytes(tiles.image))
    pictures = np.stack([_read_png(files[c]) for c in units])  # one settings file: one picture size
    (folder / "gallery.png").write_bytes(png_bytes(tile_rgb(pictures, gap=4).image))
    provenance = cast(Provenance, model.provenance)  # set by load_model on every model it returns
    if provenance.source == "random":
        print("warning: the weights are random, so these pictures mean nothing; use --weights imagenet "
              "(or a file) for real ones.", file=sys.stderr)
    return folder


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


__all__ = ["gallery", "parse_channels"]
