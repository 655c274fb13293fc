"""Cached results for the unit page: feature visualisation, kernel, dataset examples, ablation.

Feature visualisations live in the library's disk cache (alexnet_viz.analysis.featviz), which outlives the
server, so they are read from there on every run rather than cached again in memory. The rest
is keyed on ImageRef + ModelKey like ui/analysis.py; the shared model is only read.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from alexnet_viz.analysis.featviz import DEFAULT, Settings
from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.figures import mosaic
from ui.analysis import HASH, ImageRef, kernels, prepare
from ui.state import shared_model

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.analysis.ablate import Ablation
    from alexnet_viz.analysis.featviz import FeatureVis, Progress
    from alexnet_viz.analysis.index import Index

SLICES = 8  # the strongest input slices drawn for a deep kernel
DIVERSE = Settings(batch=4, diversity=5.0)  # four images pushed apart (lucent's diversity objective)


def featvis(key: ModelKey, layer: str, channel: int, settings: Settings = DEFAULT) -> FeatureVis | None:
    """The unit's feature visualisation if it was computed before (by anyone, even the CLI), else None."""
    from alexnet_viz.analysis.featviz import load_cached

    return load_cached(shared_model(key), layer, channel, settings)


# One optimisation costs seconds to minutes of every core (a class logit runs the whole network 256
# times), and any visitor can press the button in many sessions at once: like the lab's "Verify",
# at most FEATVIZ_SLOTS run per process (set by whoever runs the server); the rest wait, then are told.
FEATVIZ_SLOTS = max(1, int(os.environ.get("ALEXNET_FEATVIZ_SLOTS", "1")))
FEATVIZ_WAIT_S = 60.0
_FEATVIZ_SLOT = threading.BoundedSemaphore(FEATVIZ_SLOTS)


def compute_featvis(key: ModelKey, layer: str, channel: int, progress: Progress,
                    settings: Settings = DEFAULT) -> FeatureVis:
    """Optimise the picture now (seconds) and store it in the disk cache for every later visit.

    Waits for a free slot first; a unit another visitor just computed is then read from the disk cache.
    """
    from alexnet_viz.analysis.featviz import cached_visualize
    from alexnet_viz.errors import AlexVizError

    if not _FEATVIZ_SLOT.acquire(timeout=FEATVIZ_WAIT_S):
        raise AlexVizError("Other visitors' feature visualisations are being computed right now; try again in a "
                           "minute (pictures already computed show at once).")
    try:
        return cached_visualize(shared_model(key), layer, channel, settings, progress=progress)
    finally:
        _FEATVIZ_SLOT.release()


FEATVIS_COLS = 2  # a diversity set as 2 x 2: four 128-px images in a row would be wider than a phone


def featvis_png(vis: FeatureVis) -> bytes:
    """The optimised images, two to a row, as PNG (lossless: the pattern is the point)."""
    return mosaic.png_bytes(mosaic.tile_rgb(vis.images, cols=min(FEATVIS_COLS, len(vis.images)), gap=4).image)


@dataclass(frozen=True)
class KernelView:
    """A kernel drawn as tiles, and which input channels the tiles are (None: one colour tile)."""

    png: bytes
    width: int  # pixels: pages draw it at this size (a long caption would stretch "content")
    inputs: tuple[int, ...] | None
    norms: tuple[float, ...]
    side: int  # each tile is side x side weights


def _fc_unit_weights(key: ModelKey, layer: str, channel: int) -> np.ndarray | None:
    """A fully connected unit's weights laid out as the (C, H, W) maps it reads, when it reads maps (F9)."""
    from alexnet_viz.core.bookkeeping import ledger

    model = shared_model(key)
    rows = ledger(model.spec).rows
    maps = [r.out_shape for r in rows if r.kind != "fc"][-1]
    row = next(r for r in rows if r.name == layer)
    if row.in_shape[0] != int(np.prod(maps)):  # F10, F11: a vector in, no layout to draw
        return None
    # torch.flatten of (C, H, W) maps is what the layer reads, so its weights reshape back the same way
    return model.weight(layer)[channel].detach().float().cpu().numpy().reshape(maps)


@st.cache_data(hash_funcs=HASH, max_entries=256, show_spinner=False)
def kernel_view(key: ModelKey, layer: str, channel: int) -> KernelView | None:
    """C1's kernel in colour; a deeper kernel's (or F9 unit's) strongest input slices (by L2 norm); None for a
    pool or a fully connected unit that reads a plain vector."""
    groups = shared_model(key).spec.layer(layer).groups
    if shared_model(key).spec.layer(layer).kind == "fc":
        k = _fc_unit_weights(key, layer, channel)
        if k is None:
            return None
        w = k[None]  # one "kernel" of (C, H, W) weights; its shared colour range is its own
        channel, groups = 0, 1  # every unit reads all the maps
    else:
        found = kernels(key).get(layer)
        if found is None:
            return None
        w, k = found, found[channel]
    if k.shape[0] == 3:
        tiles = mosaic.kernel_tiles(w, kernels=range(channel, channel + 1), scale=max(4, 220 // k.shape[-1]))
        return KernelView(png=tiles.png(), width=tiles.image.shape[1], inputs=None, norms=(float(np.linalg.norm(k)),),
                          side=k.shape[-1])
    norms = np.linalg.norm(k.reshape(k.shape[0], -1), axis=1)
    top = np.argsort(-norms, kind="stable")[:SLICES]
    offset = (channel // (w.shape[0] // groups)) * k.shape[0] if groups > 1 else 0  # the tower's first input
    values = mosaic.normalise(k[top], "layer", symmetric=True)
    # two rows of four ~80-px tiles, 6 px apart: about 340 px wide, inside a phone's column (eight in a row overflowed)
    tiles = mosaic.tile_indexed(values, "diverging", cols=SLICES // 2, gap=6, scale=max(4, 80 // k.shape[-1]))
    return KernelView(png=tiles.png(), width=tiles.image.shape[1], inputs=tuple(int(i) + offset for i in top),
                      norms=tuple(float(norms[i]) for i in top), side=k.shape[-1])


@st.cache_data(hash_funcs=HASH, max_entries=128, show_spinner="Knocking the unit out…")
def ablation(ref: ImageRef, key: ModelKey, layer: str, channels: tuple[int, ...]) -> Ablation:
    """The user's top-5 with and without `channels` of `layer`."""
    import torch

    from alexnet_viz.analysis.ablate import ablate

    x = torch.from_numpy(np.array(prepare(ref, key.spec).x))
    return ablate(shared_model(key), x, layer, channels)


# --- dataset examples ----------------------------------------------------------------------------

@st.cache_resource(max_entries=8, show_spinner="Opening the dataset index…")
def _load(path: str, mtime: float) -> Index:
    from alexnet_viz.analysis.index import load_index

    return load_index(path)


def indexes(key: ModelKey) -> dict[str, Index]:
    """The offered indexes (ALEXNET_INDEX, set by whoever runs the server) made with this very network."""
    from alexnet_viz.analysis.index import offered
    from alexnet_viz.core.provenance import weights_id

    found = {}
    mine = weights_id(shared_model(key))
    for path in offered():
        try:
            index = _load(str(path), path.stat().st_mtime)
        except (OSError, ValueError) as exc:  # a missing or broken file offers nothing; its server is told why
            logging.getLogger(__name__).warning("ALEXNET_INDEX file %s is not offered: %s", path, exc)
            continue
        if index.variant == key.variant and index.weights == mine:
            found[path.name] = index
    return found


PATCH, PATCH_COLS, PATCH_GAP = 86, 4, 3  # pixels per patch, patches per row, pixels between: 353 px fit a phone


@dataclass(frozen=True)
class Patches:
    """The channel's top patches as one mosaic (one image: a phone does not stack 16 of them), best first."""

    jpeg: bytes
    width: int
    values: tuple[float, ...]
    names: tuple[str, ...]


@st.cache_data(hash_funcs=HASH, max_entries=256, show_spinner=False)
def patches(index_name: str, key: ModelKey, layer: str, channel: int) -> Patches | None:
    """Crops of the channel's top images where it fires most, from the files the index names."""
    from PIL import Image

    from alexnet_viz.inputs.images import load_image, network_view

    index = indexes(key)[index_name]
    tiles, values, names = [], [], []
    for path, value, (x0, y0, x1, y1) in index.top(layer, channel):
        try:
            view = network_view(load_image(path), key.spec)
        except (OSError, ValueError):
            continue  # a file moved or changed since indexing
        crop = view.crop((x0, y0, x1 + 1, y1 + 1)).resize((PATCH, PATCH), Image.Resampling.NEAREST)
        tiles.append(np.asarray(crop, dtype=np.uint8))
        values.append(value)
        names.append(os.path.basename(Path(path)))
    if not tiles:
        return None
    grid = mosaic.tile_rgb(np.stack(tiles), cols=min(PATCH_COLS, len(tiles)), gap=PATCH_GAP)
    return Patches(jpeg=mosaic.jpeg_bytes(grid.image), width=grid.image.shape[1], values=tuple(values),
                   names=tuple(names))


__all__ = ["DEFAULT", "DIVERSE", "FEATVIS_COLS", "KernelView", "Patches", "ablation", "compute_featvis", "featvis",
           "featvis_png", "indexes", "kernel_view", "patches"]
