"""Cached results for the "AlexNet's ideas" page, keyed on the image (ImageRef) and the network (ModelKey).

Everything is computed from the real model and the user's image and returned as arrays, bytes or
the library's frozen dataclasses; the shared model is only read (weights copied out, no hooks kept).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import LRN
from alexnet_viz.figures import activations as pf
from alexnet_viz.figures import mosaic
from ui import analysis
from ui.analysis import HASH, ImageRef
from ui.charts import frozen
from ui.state import shared_model

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.analysis.units import ConvUnit, DenseUnit, PoolUnit
    from alexnet_viz.ideas.augment import ColourPCA, TenCrop
    from alexnet_viz.ideas.basics import LrnComparison, ReluEffect



@dataclass(frozen=True)
class Idea:
    """One section of the ideas page: its picker label, what it is in a line, and where the paper says it."""

    label: str
    line: str
    source: str  # the paper's section, or "" for the page's own demonstration


# The page shows one at a time (a ~100-element page cost ~50 ms a rerun); `?idea=lrn` opens one. Page order.
IDEAS = {
    "relu": Idea("ReLU", "max(x, 0) instead of tanh: a slope of 1 wherever it passes a value", "Sec. 3.1"),
    "lrn": Idea("LRN", "local response normalisation: each value divided by its neighbouring channels' energy",
                "Sec. 3.3"),
    "pooling": Idea("Overlapping pooling", "3×3 windows every 2 pixels, so neighbouring windows share pixels",
                    "Sec. 3.4"),
    "dropout": Idea("Dropout", "half of F9's and F10's outputs set to zero at random while training", "Sec. 4.2"),
    "augmentation": Idea("Data augmentation", "random crops, mirroring and PCA colour noise; ten crops at test",
                         "Sec. 4.1"),
    "two-gpus": Idea("Two GPUs", "the network split over two 3 GB GPUs that talk only at some layers", "Sec. 3.2"),
    "by-hand": Idea("By hand", "one unit of C1, S2 and F9 recomputed from its real inputs and weights", ""),
}


def c1_lrn(key: ModelKey) -> tuple[LRN, bool]:
    """C1's LRN settings and whether the variant's model has one (others get the paper's, for the demo)."""
    lrn = key.spec.layer("C1").lrn
    return (lrn, True) if lrn is not None else (LRN(), False)


@dataclass(frozen=True)
class C1Stages:
    """One C1 channel before the ReLU, after it, and after the LRN (as Krizhevsky's released code computes
    it), plus layer-wide facts."""

    pre: np.ndarray
    relu: np.ndarray
    lrn: np.ndarray
    effect: ReluEffect  # over the whole layer
    check: LrnComparison  # the code's α/n against the printed α, over the whole layer after the ReLU
    model_diff: float | None  # the formula by hand vs the model's own C1 output, when the model has the LRN
    low: float  # the smallest and largest pre-activation of the whole layer
    high: float


@st.cache_data(hash_funcs=HASH, max_entries=32, show_spinner="Normalising C1…")
def c1_stages(ref: ImageRef, key: ModelKey, channel: int) -> C1Stages:
    from alexnet_viz.ideas.basics import compare_lrn, lrn_by_hand, relu_effect

    res = analysis.layer(ref, key, "C1")
    assert res.pre is not None  # C1 always has a ReLU
    relu = np.maximum(res.pre, 0.0)
    lrn, in_model = c1_lrn(key)
    normed = lrn_by_hand(relu, lrn)
    diff = float(np.abs(normed - res.post).max()) if in_model else None
    return C1Stages(pre=res.pre[channel], relu=relu[channel], lrn=normed[channel].astype(np.float32),
                    effect=relu_effect(res.pre), check=compare_lrn(relu, lrn), model_diff=diff,
                    low=float(res.pre.min()), high=float(res.pre.max()))


@st.cache_resource(hash_funcs=HASH, max_entries=64, show_spinner=False)
def stage_figure(ref: ImageRef, key: ModelKey, channel: int, stage: str):
    """One C1 channel at one stage as the app's heatmap (shared; never modify the returned figure)."""
    s = c1_stages(ref, key, channel)
    values = {"pre": s.pre, "relu": s.relu, "lrn": s.lrn}[stage]
    title = {"pre": "before the ReLU", "relu": "after the ReLU", "lrn": "after the ReLU and the LRN"}[stage]
    return frozen(pf.channel_heatmap(values, title=f"C1 channel {channel}, {title}", diverging=stage == "pre",
                                     height=340))  # sent without a new to_dict() each rerun


# --- augmentation ----------------------------------------------------------------------------------

@st.cache_data(hash_funcs=HASH, max_entries=32, show_spinner=False)
def base(ref: ImageRef) -> np.ndarray:
    """The photo at the paper's 256×256 (shorter side to 256, central square)."""
    from alexnet_viz.ideas.augment import base_image
    from alexnet_viz.inputs.images import load_image

    return base_image(load_image(ref.data))


def _grid(tiles: list[np.ndarray], cols: int) -> bytes:
    """Pictures side by side as one JPEG, so a phone scales one image instead of stacking many."""
    return mosaic.jpeg_bytes(mosaic.tile_rgb(np.stack(tiles), cols=cols, gap=6).image)


@dataclass(frozen=True)
class Crops:
    """A handful of training crops as one JPEG grid, where they lie, and the base image with them outlined."""

    grid: bytes
    where: tuple[tuple[int, int, bool], ...]  # (top, left, flip), row-major in the grid
    outlined: bytes


@st.cache_data(hash_funcs=HASH, max_entries=32, show_spinner=False)
def crops(ref: ImageRef, crop: int, count: int, seed: int) -> Crops:
    from PIL import Image, ImageDraw

    from alexnet_viz.ideas.augment import random_crops

    picture = base(ref)
    chosen = random_crops(picture, crop, count, seed)
    img = Image.fromarray(picture)
    draw = ImageDraw.Draw(img)
    for c in chosen:
        draw.rectangle((c.left, c.top, c.left + crop - 1, c.top + crop - 1), outline=(255, 221, 0), width=2)
    return Crops(grid=_grid([c.pixels for c in chosen], cols=3), where=tuple((c.top, c.left, c.flip) for c in chosen),
                 outlined=mosaic.jpeg_bytes(np.asarray(img)))


@st.cache_data(hash_funcs=HASH, max_entries=32, show_spinner=False)
def pca(ref: ImageRef) -> ColourPCA:
    from alexnet_viz.ideas.augment import colour_pca

    return colour_pca(base(ref))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def colour_noise(ref: ImageRef, seeds: tuple[int, ...], boost: float,
                 imagenet: bool) -> tuple[bytes, tuple[tuple[np.ndarray, np.ndarray], ...]]:
    """The base photo, then one PCA colour shift per seed (× boost, for visibility), as one grid; each α and shift."""
    from alexnet_viz.ideas.augment import IMAGENET_EIGVAL, IMAGENET_EIGVEC, add_colour, colour_shift, draw_alphas

    if imagenet:
        vals, vecs = np.array(IMAGENET_EIGVAL), np.array(IMAGENET_EIGVEC)
    else:
        p = pca(ref)
        vals, vecs = p.eigvals, p.eigvecs
    picture = base(ref)
    draws = []
    for seed in seeds:
        alphas = draw_alphas(seed)
        draws.append((alphas, colour_shift(vals, vecs, alphas) * boost))
    tiles = [picture] + [add_colour(picture, shift) for _, shift in draws]
    return _grid(tiles, cols=len(tiles)), tuple(draws)


@st.cache_data(hash_funcs=HASH, max_entries=16, show_spinner="Classifying ten crops in one batch…")
def ten_crop(ref: ImageRef, key: ModelKey) -> tuple[TenCrop, bytes]:
    """The ten-crop prediction and the ten crops as one grid (corners and centre, then mirrored)."""
    from alexnet_viz.ideas.augment import ten_crop_prediction, ten_crops

    crops_ = ten_crops(base(ref), key.spec.input_size)
    return ten_crop_prediction(shared_model(key), crops_), _grid([c.pixels for c in crops_], cols=5)


# --- one unit by hand ---------------------------------------------------------------------------

def _weights(key: ModelKey, name: str, rows: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """The layer's weights and biases (or some rows of them) as float32 copies: never views of the shared model."""
    from alexnet_viz.core.arrays import to_numpy

    params = shared_model(key).layer(name).state_dict()
    return to_numpy(params["weight"][rows]), to_numpy(params["bias"][rows])


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def c1_unit(ref: ImageRef, key: ModelKey, channel: int, row: int, col: int) -> ConvUnit:
    from alexnet_viz.analysis.units import conv_unit, forward_tolerance

    layer = key.spec.layer("C1")
    w, b = _weights(key, "C1")
    x = analysis.prepare(ref, key.spec).x[0]
    pre = analysis.layer(ref, key, "C1").pre
    assert pre is not None
    return conv_unit(x, w, b, stride=layer.stride, padding=layer.padding, groups=layer.groups, channel=channel,
                     row=row, col=col, forward=float(pre[channel, row, col]),
                     rel_tol=forward_tolerance(key.device, conv=True))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def c1_patch_png(ref: ImageRef, key: ModelKey, channel: int, row: int, col: int) -> tuple[bytes, bytes]:
    """The unit's 11×11 patch of the picture (black where it covers padding) and its kernel, enlarged."""
    from alexnet_viz.analysis.units import window_pixels

    unit = c1_unit(ref, key, channel, row, col)
    patch = window_pixels(analysis.prepare(ref, key.spec).view, unit.rows, unit.cols)
    w, _ = _weights(key, "C1")
    return (mosaic.tile_rgb(patch[None], gap=0, scale=16).png(),
            mosaic.kernel_tiles(w, scale=16, kernels=range(channel, channel + 1)).png())


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def s2_unit(ref: ImageRef, key: ModelKey, channel: int, row: int, col: int) -> PoolUnit:
    from alexnet_viz.analysis.units import pool_unit

    layer = key.spec.layer("S2")
    c1, s2 = analysis.layer(ref, key, "C1").post, analysis.layer(ref, key, "S2").post
    return pool_unit(c1, kernel=layer.kernel, stride=layer.stride, channel=channel, row=row, col=col,
                     forward=float(s2[channel, row, col]))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def f9_unit(ref: ImageRef, key: ModelKey, unit: int) -> tuple[DenseUnit, tuple[int, int, int]]:
    """The F9 unit's dot product over S8's flattened output, and S8's (C, H, W) shape to place the inputs."""
    from alexnet_viz.analysis.units import dense_unit, forward_tolerance

    s8 = analysis.layer(ref, key, "S8").post
    pre = analysis.layer(ref, key, "F9").pre
    assert pre is not None
    w, b = _weights(key, "F9", slice(unit, unit + 1))
    tol = forward_tolerance(key.device, conv=False)
    one = dense_unit(s8.ravel(), w, b, unit=0, forward=float(pre[unit]), rel_tol=tol)
    shape = (int(s8.shape[0]), int(s8.shape[1]), int(s8.shape[2]))
    return replace(one, unit=unit), shape
