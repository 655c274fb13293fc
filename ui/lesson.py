"""The lesson's glue: which step the URL names, Previous/Next, and each step's numbers and pictures, cached.

Everything is keyed on the photo (ImageRef, by its bytes' SHA-256) and the network (ModelKey), like
ui/analysis.py, and computed from the shared model's real outputs and weights (read, never changed).
The numbers come from alexnet_viz.analysis.lesson; this module only caches them and draws pictures.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st
from PIL import Image, ImageDraw

from alexnet_viz.analysis import lesson
from alexnet_viz.core.bookkeeping import ledger, receptive_field
from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import LRN, Spec
from alexnet_viz.figures import colours, mosaic
from ui import analysis, ideas
from ui.analysis import HASH, ImageRef
from ui.charts import frozen, vector_bars
from ui.urls import url_choice, url_write

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.analysis.units import ConvUnit, DenseUnit
    from alexnet_viz.ideas.basics import DropoutDemo

STEP_KEY = "lesson_step"  # plain session state (no widget): kept when the learner visits another page
STEP_PARAM = "step"
PLOT = {"displaylogo": False, "displayModeBar": False}  # no toolbar over the text on a phone
FIELD_LAYERS = ("C1", "C3", "C5", "C7")
FIELD_COLOURS = ((255, 221, 0), (0, 200, 255), (255, 80, 200), (120, 255, 90))
FIELD_NAMES = ("yellow", "cyan", "pink", "green")
STRONGEST = 8  # feature maps shown per layer in the stack step: two rows of four fit a phone


# --- the step in the URL, and the buttons ---------------------------------------------------------

def current_step(count: int) -> int:
    """The step the URL names (?step=5), or the one this session was on; a bad value gets the usual note."""
    url_choice(STEP_KEY, STEP_PARAM, list(range(1, count + 1)), 1, parse=int)
    step = int(st.session_state[STEP_KEY])
    url_write(STEP_PARAM, step)
    return step


def _go(step: int) -> None:
    st.session_state[STEP_KEY] = step


def step_buttons(step: int, count: int) -> None:
    """Previous and Next side by side (a horizontal container does not stack on a phone)."""
    row = st.container(horizontal=True, horizontal_alignment="distribute", vertical_alignment="center")
    row.button("Previous", key="lesson_previous", icon=":material/arrow_back:", disabled=step <= 1,
               on_click=_go, args=(step - 1,))
    row.caption(f"Step {step} of {count}")
    row.button("Next", key="lesson_next", icon=":material/arrow_forward:", icon_position="right", type="primary",
               disabled=step >= count, on_click=_go, args=(step + 1,))


# --- the unit the lesson follows, and the photo going in ------------------------------------------

@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def focus(ref: ImageRef, key: ModelKey) -> lesson.Focus:
    """The C1 unit the lesson follows for this photo (alexnet_viz.analysis.lesson.focus_unit)."""
    pre = analysis.layer(ref, key, "C1").pre
    assert pre is not None  # C1 always has a ReLU
    return lesson.focus_unit(pre)


def conv(ref: ImageRef, key: ModelKey) -> ConvUnit:
    """The followed unit's sum of products, recomputed from its real patch, kernel and bias."""
    f = focus(ref, key)
    return ideas.c1_unit(ref, key, f.channel, f.row, f.col)


def products(ref: ImageRef, key: ModelKey, count: int = 3) -> tuple[lesson.Product, ...]:
    """The first few of the followed unit's products, to write out."""
    return lesson.first_products(conv(ref, key), count)


def patch_pictures(ref: ImageRef, key: ModelKey) -> tuple[bytes, bytes]:
    """The followed unit's 11×11 patch of the picture and its kernel, enlarged (PNG)."""
    f = focus(ref, key)
    return ideas.c1_patch_png(ref, key, f.channel, f.row, f.col)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def pixel(ref: ImageRef, key: ModelKey) -> lesson.PixelIn:
    """The first pixel of the followed unit's patch (its top-left corner, inside the picture), going in."""
    from alexnet_viz.inputs.images import IMAGENET_MEAN, IMAGENET_STD

    u = conv(ref, key)
    prepared = analysis.prepare(ref, key.spec)
    return lesson.pixel_in(prepared.view, prepared.x, max(0, u.rows[0]), max(0, u.cols[0]), IMAGENET_MEAN,
                           IMAGENET_STD)


@dataclass(frozen=True)
class InputPictures:
    """The network's view with the followed patch outlined, and its three normalised channels."""

    view: bytes
    channels: bytes
    bound: float  # the largest |normalised value|: the colour bar's ends


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def input_pictures(ref: ImageRef, key: ModelKey) -> InputPictures:
    f = focus(ref, key)
    prepared = analysis.prepare(ref, key.spec)
    box = receptive_field(key.spec, "C1", f.row, f.col)
    x = prepared.x[0]
    shown = mosaic.tile_indexed(mosaic.normalise(x, "layer", symmetric=True), colours.DIVERGING, cols=3, gap=6)
    return InputPictures(mosaic.png_bytes(mosaic.draw_box(prepared.view, box)), shown.png(),
                         float(np.abs(x).max()))


# --- ReLU, LRN, pooling -------------------------------------------------------------------------

@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def relu(ref: ImageRef, key: ModelKey) -> lesson.ReluStep:
    pre = analysis.layer(ref, key, "C1").pre
    assert pre is not None
    return lesson.relu_step(pre, focus(ref, key))


def _marked(tiles: mosaic.Mosaic, row: int, col: int, scale: int) -> bytes:
    """A one-tile picture with one unit outlined (yellow on black, visible on any colour)."""
    img = Image.fromarray(tiles.image)
    draw = ImageDraw.Draw(img)
    x0, y0 = col * scale, row * scale
    draw.rectangle((x0 - 2, y0 - 2, x0 + scale + 1, y0 + scale + 1), outline=(0, 0, 0), width=1)
    draw.rectangle((x0 - 1, y0 - 1, x0 + scale, y0 + scale), outline=(255, 221, 0), width=1)
    return mosaic.png_bytes(np.asarray(img))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def relu_pictures(ref: ImageRef, key: ModelKey, scale: int = 3) -> tuple[bytes, bytes, float, float]:
    """The followed channel before the ReLU (signed colours) and after it, the unit outlined; and their ranges."""
    f = focus(ref, key)
    pre = analysis.layer(ref, key, "C1").pre
    assert pre is not None
    values = pre[f.channel]
    after = np.maximum(values, 0.0)
    before = mosaic.tile_indexed(mosaic.normalise(values[None], "map", symmetric=True), colours.DIVERGING,
                                 scale=scale)
    passed = mosaic.tile_indexed(mosaic.normalise(after[None], "map"), colours.SEQUENTIAL, scale=scale)
    return (_marked(before, f.row, f.col, scale), _marked(passed, f.row, f.col, scale),
            float(np.abs(values).max()), float(after.max()))


def lrn_settings(key: ModelKey) -> tuple[LRN, bool]:
    """C1's LRN and whether this network has one (the others get the paper's, to show what it did)."""
    return ideas.c1_lrn(key)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def lrn(ref: ImageRef, key: ModelKey) -> lesson.LrnUnit:
    """The paper's normalisation of the followed value, checked against the network's output when it has one."""
    f = focus(ref, key)
    res = analysis.layer(ref, key, "C1")
    assert res.pre is not None
    settings, in_model = lrn_settings(key)
    forward = float(res.post[f.channel, f.row, f.col]) if in_model else None
    return lesson.lrn_unit(np.maximum(res.pre, 0.0), settings, f, forward)


@st.cache_resource(hash_funcs=HASH, max_entries=64, show_spinner=False)
def lrn_figure(ref: ImageRef, key: ModelKey):
    """The values the normalisation reads: the unit's place in the channels around it (shared, frozen)."""
    from alexnet_viz.figures.architecture import value_grids

    u = lrn(ref, key)
    own = u.channels.index(focus(ref, key).channel)
    row = np.asarray([u.values], dtype=np.float32)
    title = f"C1 channels {u.channels[0]}–{u.channels[-1]}, after the ReLU"
    return frozen(value_grids([row], [title], cell=(0, own), cell_panel=0, side=0, height=150))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def pool(ref: ImageRef, key: ModelKey) -> lesson.PoolPair:
    """The S2 unit above the followed C1 unit and its neighbour, on C1's real output."""
    layer = key.spec.layer("S2")
    c1, s2 = analysis.layer(ref, key, "C1").post, analysis.layer(ref, key, "S2").post
    return lesson.pool_pair(c1, kernel=layer.kernel, stride=layer.stride, focus=focus(ref, key), pooled=s2)


@st.cache_resource(hash_funcs=HASH, max_entries=64, show_spinner=False)
def pool_figure(ref: ImageRef, key: ModelKey):
    """Both windows on the real values: the first outlined solid with its maximum, the second dashed."""
    from alexnet_viz.figures.architecture import value_grids

    p = pool(ref, key)
    first, second = p.first, p.second
    c0 = p.cols[0]
    a, b = first.cols[0] - c0, second.cols[0] - c0
    k = first.window.shape[0]
    peak = (first.argmax[0], first.argmax[1] + a)
    stage = "after the ReLU" + (" and the LRN" if key.spec.layer("C1").lrn is not None else "")
    fig = value_grids([p.region.astype(np.float32)], [f"C1 channel {first.channel}, {stage}"],
                      window=((0, k), (a, a + k)), cell=peak, cell_panel=0, height=210)
    fig.add_shape(type="rect", x0=b - 0.4, x1=b + k - 0.6, y0=-0.4, y1=k - 0.6, line=dict(color="#111", width=2,
                                                                                        dash="dash"))
    return frozen(fig)


# --- the stack, the receptive field --------------------------------------------------------------

@dataclass(frozen=True)
class Strongest:
    """A layer's strongest feature maps (by their largest value) as one picture, on one colour range: each map
    on its own range would make a nearly flat map look as patterned as any other."""

    png: bytes
    channels: tuple[int, ...]
    side: int
    spread: float  # how much they vary inside their outer ring, as a share of their largest value (median)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def strongest(ref: ImageRef, key: ModelKey, name: str, width: int = 280) -> Strongest:
    maps = analysis.layer(ref, key, name).post
    order = mosaic.channel_order(maps, "max")[:STRONGEST]
    side = maps.shape[1]
    scale = max(1, width // (4 * side))
    m = mosaic.tile_indexed(mosaic.normalise(maps[order], "layer"), colours.SEQUENTIAL, cols=4, gap=3, scale=scale,
                            order=order)
    channels = tuple(int(c) for c in order)
    return Strongest(m.png(), channels, side, lesson.interior_spread(maps, channels))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def fields_png(ref: ImageRef, spec: Spec) -> bytes:
    """The receptive fields of the centre unit of C1, C3, C5 and C7, nested on the network's view (PNG)."""
    image = analysis.prepare(ref, spec).view
    for box, colour in zip(lesson.centre_fields(spec, FIELD_LAYERS), FIELD_COLOURS):
        image = mosaic.draw_box(image, box, colour=colour)
    return mosaic.png_bytes(image)


# --- fully connected, dropout, softmax -----------------------------------------------------------

def work_split(spec: Spec) -> lesson.Split:
    """Parameters and multiply-adds of the convolutions against the fully connected layers (from the ledger)."""
    return lesson.split(ledger(spec))


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def dense(ref: ImageRef, key: ModelKey) -> tuple[DenseUnit, tuple[int, int, int]]:
    """F9's strongest unit for this photo, its 9,216-term dot product summarised and checked."""
    pre = analysis.layer(ref, key, "F9").pre
    assert pre is not None
    return ideas.f9_unit(ref, key, int(np.argmax(pre)))


@dataclass(frozen=True)
class Dropout:
    """Dropout on six real F9 outputs in one training pass, and whether the forward pass dropped anything."""

    units: tuple[int, ...]
    demo: DropoutDemo
    off_at_test: bool  # F9's output equals max(F9 before the ReLU, 0) for every unit


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def dropout(ref: ImageRef, key: ModelKey, seed: int = 0) -> Dropout:
    from alexnet_viz.ideas.basics import dropout_demo

    res = analysis.layer(ref, key, "F9")
    assert res.pre is not None
    units = np.sort(np.argsort(-res.post, kind="stable")[:6])
    x = res.post[units].astype(np.float64)
    if not (x > 0).all():  # fewer than six active units: dropout needs values it can read back
        x = np.arange(1.0, 7.0)
    return Dropout(tuple(int(u) for u in units), dropout_demo(x, 0.5, trials=2000, seed=seed),
                   lesson.dropout_is_off(res.pre, res.post))


def dropout_figure(d: Dropout):
    """The six values at test time and in one training pass (shared, frozen)."""
    return vector_bars({"test time (dropout off)": d.demo.torch_eval.astype(np.float32),
                        "one training pass": d.demo.one_pass.astype(np.float32)}, height=240)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def softmax(ref: ImageRef, key: ModelKey) -> lesson.SoftmaxTop:
    """The softmax of F11's 1,000 class scores, written out for the top 5."""
    return lesson.softmax_top(analysis.layer(ref, key, "F11").post, 5)


@st.cache_resource(hash_funcs=HASH, max_entries=64, show_spinner=False)
def top_figure(ref: ImageRef, key: ModelKey):
    """The top-5 bars with chance (1 in 1,000) drawn beside them (shared, frozen)."""
    from alexnet_viz.analysis.probe import categories
    from alexnet_viz.figures.activations import top_k_bars

    s = softmax(ref, key)
    names = categories(s.classes)
    fig = top_k_bars([names[i] for i in s.indices], s.probs, title="", classes=s.classes)
    fig.update_layout(margin=dict(l=10, r=10, t=36, b=10))
    return frozen(fig)


__all__ = ["FIELD_LAYERS", "FIELD_NAMES", "PLOT", "STEP_PARAM", "Dropout", "InputPictures", "Strongest",
           "conv", "current_step", "dense", "dropout", "dropout_figure", "fields_png", "focus",
           "input_pictures", "lrn", "lrn_figure", "lrn_settings", "patch_pictures", "pixel", "products", "pool",
           "pool_figure", "relu", "relu_pictures", "softmax", "step_buttons", "strongest", "top_figure",
           "work_split"]
