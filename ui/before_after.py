"""The image pages' "compare with" choice: the untrained initialisation beside a trained checkpoint.

One call per page (`section`), after its own view: the same photo, layer and channel through both
networks (alexnet_viz.train.before_after), two columns that Streamlit stacks on a phone. Nothing
is computed until a checkpoint is chosen, so a page's first visit costs a directory listing.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import Spec
from alexnet_viz.core.weightschoice import IMAGENET, RANDOM
from alexnet_viz.figures import colours, mosaic
from alexnet_viz.train import before_after as ba
from alexnet_viz.train.structure import structure
from ui.analysis import HASH, ImageRef, prepare
from ui.state import server_device, shared_model
from ui.training import runs_folder

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.model import AlexNet

View = Literal["maps", "filters", "prediction", "unit"]
SIDES = ("before", "after")
PICTURE_PX = 300
_HASH = {**HASH, ba.Trained: lambda t: (t.ident, t.stamp, t.spec)}
_PAIRS: OrderedDict[tuple[str, float, str], tuple[AlexNet, AlexNet]] = OrderedDict()
_LOCK = threading.Lock()
MAX_PAIRS = 2  # runs' networks held at once (ImageNet's pair is the app's shared models)


def _choices(variant: Spec) -> list[ba.Trained]:
    from alexnet_viz.core.weights import imagenet_path

    return ba.choices(variant, runs_folder(), imagenet_path())


def _pair(trained: ba.Trained) -> tuple[AlexNet, AlexNet]:
    """(before, after), shared by every session: ImageNet's through the app's models, a run's held here."""
    device = server_device()
    if trained.run is None:
        return (shared_model(ModelKey(trained.spec, RANDOM, device)),
                shared_model(ModelKey(trained.spec, IMAGENET, device)))
    key = (trained.ident, trained.stamp, device)
    with _LOCK:
        pair = _PAIRS.get(key)
        if pair is None:
            pair = ba.networks(trained, device)
            _PAIRS[key] = pair
            while len(_PAIRS) > MAX_PAIRS:
                _PAIRS.popitem(last=False)
        _PAIRS.move_to_end(key)
    return pair


def _input(ref: ImageRef, spec: Spec):
    import torch

    return torch.from_numpy(np.array(prepare(ref, spec).x))


@st.cache_data(hash_funcs=_HASH, max_entries=64, show_spinner="Running the photo through both networks…")
def maps(ref: ImageRef, trained: ba.Trained, layer: str, channel: int) -> tuple[np.ndarray, np.ndarray]:
    x = _input(ref, trained.spec)
    before, after = _pair(trained)
    return ba.activation(before, x, layer, channel), ba.activation(after, x, layer, channel)


@st.cache_data(hash_funcs=_HASH, max_entries=32, show_spinner=False)
def layer_weights(trained: ba.Trained, layer: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    before, after = _pair(trained)
    return ba.weights(before, layer), ba.weights(after, layer)


@st.cache_data(hash_funcs=_HASH, max_entries=64, show_spinner="Classifying with both networks…")
def tops(ref: ImageRef, trained: ba.Trained) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    x = _input(ref, trained.spec)
    before, after = _pair(trained)
    names = ba.class_names(trained, after.spec.layers[-1].out)
    return ba.top(before, x, names), ba.top(after, x, names)


def section(view: View, key: str, variant: Spec, *, ref: ImageRef | None = None, layer: str | None = None,
            channel: int = 0) -> None:
    """The "compare with" choice and, once a checkpoint is chosen, before | after for this page's view."""
    st.markdown("#### Before and after training")
    found = _choices(variant)
    if not found:
        st.caption(f"**Compare with** a trained network: this server has none for the {variant.name} variant yet "
                   "(no ImageNet file, no training run's checkpoint). Start a run on the Training page.")
        return
    by_id = {t.ident: t for t in found}
    picked = st.selectbox("Compare with", [None, *by_id], key=key,
                          format_func=lambda i: "nothing (this page's weights only)" if i is None else by_id[i].label,
                          help="The untrained initialisation beside a trained network this server has: the same "
                               "photo, layer and channel through both.")
    if picked is None:
        return
    trained = by_id[picked]
    start = "the run's own starting weights (its seed and recipe)" if trained.run else \
        f"the {variant.name} variant's initialisation (seed 0, the app's random weights)"
    after = f"{Path(trained.run).name}/last.pt" if trained.run else "torchvision's trained ImageNet weights"
    st.caption(f"Before: {start}. After: {after}.")
    columns = st.columns(2)
    for col, title in zip(columns, ("**Before training**", "**After training**"), strict=True):
        col.markdown(title)
    if view == "prediction" and ref is not None:
        _tops(columns, ref, trained)
        return
    if layer is None:
        return
    if view in ("maps", "unit") and ref is not None:
        _maps(columns, ref, trained, layer, channel)
    if view in ("filters", "unit"):
        _kernels(columns, trained, layer, channel, whole_layer=view == "filters")


def _two(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"  # + 0.0: no "-0.00"


def _picture(values: np.ndarray) -> bytes:
    z = np.asarray(values, dtype=np.float32)
    scale = max(1, PICTURE_PX // max(z.shape))
    return mosaic.feature_grid(z[None], mode="map", cmap=colours.SEQUENTIAL, scale=scale, gap=0).png()


def _maps(columns: Sequence[DeltaGenerator], ref: ImageRef, trained: ba.Trained, layer: str, channel: int) -> None:
    pair = maps(ref, trained, layer, channel)
    for col, values in zip(columns, pair, strict=True):
        if values.ndim == 0:
            col.metric(f"{layer} unit {channel}", f"{float(values):.4g}")
            continue
        col.image(_picture(values), width="stretch", output_format="PNG",
                  caption=f"{layer} channel {channel} for this photo, on its own range (bright: its highest): "
                          f"highest {float(values.max()):.3g}, mean {float(values.mean()):.3g}, "
                          f"{float((values <= 0).mean()):.0%} zeros.")
    st.caption("Untrained, a map is the photo's brightness and colour stirred by random weights; trained, a "
               "channel answers to one kind of pattern, so its map lights up where that pattern is.")


def _kernels(columns: Sequence[DeltaGenerator], trained: ba.Trained, layer: str, channel: int,
             whole_layer: bool) -> None:
    before, after = layer_weights(trained, layer)
    if before is None or after is None or before.ndim != 4:
        return
    pair = (before, after)
    if before.shape[1] == 3 and whole_layer:
        for col, w in zip(columns, pair, strict=True):
            col.image(mosaic.kernel_tiles(w, scale=3).png(), width="stretch", output_format="PNG",
                      caption=f"All {w.shape[0]} of {layer}'s kernels, each stretched to full contrast: structure "
                              f"{_two(structure(w))} (0: noise, 1: all smooth; the Training page plots it).")
        return
    if before.shape[1] == 3:
        for col, w in zip(columns, pair, strict=True):
            col.image(mosaic.kernel_tiles(w, kernels=range(channel, channel + 1), scale=12).png(), width=132,
                      output_format="PNG", caption=f"{layer} kernel {channel}: structure "
                                                   f"{_two(structure(w[channel:channel + 1]))}.")
        return
    norms = np.linalg.norm(after[channel].reshape(after.shape[1], -1), axis=1)
    slices = np.argsort(-norms, kind="stable")[:8]  # the trained kernel's strongest inputs, on both sides
    for col, w in zip(columns, pair, strict=True):
        tiles = mosaic.tile_indexed(mosaic.normalise(w[channel][slices], "layer", symmetric=True), colours.DIVERGING,
                                    cols=4, gap=6, scale=max(4, 80 // w.shape[-1]))
        col.image(tiles.png(), width=tiles.image.shape[1], output_format="PNG",
                  caption=f"{layer} kernel {channel} on input channels {', '.join(map(str, slices))} (the trained "
                          f"kernel's strongest): {colours.SIGN_LEGEND}.")


def _tops(columns: Sequence[DeltaGenerator], ref: ImageRef, trained: ba.Trained) -> None:
    for col, rows in zip(columns, tops(ref, trained), strict=True):
        col.dataframe({"class": [name for name, _ in rows], "probability": [p * 100 for _, p in rows]},
                      hide_index=True, width="stretch",
                      column_config={"probability": st.column_config.ProgressColumn(
                          "probability", format="%.1f%%", min_value=0, max_value=100)})
    if trained.run is not None:
        st.caption("The run's network knows only its own classes (classes.json), so it names one of those for "
                   "any photo; the untrained one spreads its guesses almost evenly.")
    else:
        st.caption("Untrained, the 1,000 probabilities are nearly equal and the top five are chance; trained, "
                   "the network commits to what it sees.")
