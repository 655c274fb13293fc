"""Per-image results, computed once per (image bytes, ModelKey) and cached.

Every cached function takes an `ImageRef`, hashed by the SHA-256 of its bytes only, so keys are
cheap and two sessions with the same photo share work while different photos never collide.
Results are plain numpy arrays, bytes and small frozen dataclasses (never tensors or PIL
images); the shared model comes from `ui.state.shared_model` and is only read.

Every cache of a visitor's photo is bounded in bytes (`max_size`, which Streamlit counts in pickled
bytes) as well as in entries. Entries alone let a class's photos grow a process by hundreds of MiB
(one C1 result is 2.3 MB, and `layer` held 96): with the byte bounds here and in ui/grids.py and
ui/closeup.py the per-photo caches hold about 220 MiB at most, however many photos come, and a
process levels off (scripts/soak.py; the figures are in BENCHMARKS.md).
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from alexnet_viz.core.bookkeeping import receptive_field
from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import Spec
from alexnet_viz.figures import activations as pf
from alexnet_viz.figures import mosaic
from ui.state import shared_model

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from alexnet_viz.analysis.lesson import SoftmaxTop
    from alexnet_viz.analysis.probe import Prediction
    from alexnet_viz.core.model import AlexNet
    from alexnet_viz.core.provenance import Provenance


@dataclass(frozen=True)
class ImageRef:
    """An image's bytes with their SHA-256, which is what caches key on."""

    data: bytes
    digest: str
    label: str

    @staticmethod
    def of(data: bytes, label: str) -> ImageRef:
        """Hash once here, so every cache lookup afterwards compares a short digest, not the bytes."""
        return ImageRef(data=data, digest=hashlib.sha256(data).hexdigest(), label=label)


# How the app's caches key their arguments: an ImageRef by its digest, never by its bytes; a spec or a
# ModelKey (which holds one) by its repr, ~20 µs, where Streamlit's dataclass hashing takes ~1 ms.
HASH: dict[str | type[Any], Callable[[Any], Any]] = {ImageRef: lambda ref: ref.digest, Spec: repr, ModelKey: repr}


def _model(key: ModelKey) -> AlexNet:
    return shared_model(key)


@dataclass(frozen=True)
class Prepared:
    """The picture as the network sees it, and the normalised input tensor's values."""

    view: np.ndarray  # uint8 (S, S, 3): resized and centre-cropped, for overlays
    x: np.ndarray  # float32 (1, 3, S, S): what goes into the network
    original_size: tuple[int, int]  # (width, height) of the decoded image


@st.cache_data(hash_funcs=HASH, max_entries=64, max_size="32MiB", show_spinner=False)
def prepare(ref: ImageRef, spec: Spec) -> Prepared:
    """Decode and preprocess once per image and variant; ImageError for bytes that are no image."""
    from alexnet_viz.core.arrays import to_numpy
    from alexnet_viz.inputs.images import load_image, network_view, to_tensor

    image = load_image(ref.data)
    view = np.asarray(network_view(image, spec), dtype=np.uint8)
    x = to_numpy(to_tensor(image, spec))
    return Prepared(view=view, x=x, original_size=image.size)


def _tensor(ref: ImageRef, spec: Spec) -> torch.Tensor:
    """The cached input as a tensor of its own (the cache's array stays as it is)."""
    from alexnet_viz.core.arrays import from_numpy

    return from_numpy(prepare(ref, spec).x)


@dataclass(frozen=True)
class LayerResult:
    """One layer's output for one image, with ".pre" (before the ReLU) when the layer has a ReLU."""

    post: np.ndarray
    pre: np.ndarray | None
    stats: dict[str, np.ndarray]


@st.cache_data(hash_funcs=HASH, max_entries=96, max_size="64MiB", show_spinner="Running the image through the network…")
def layer(ref: ImageRef, key: ModelKey, name: str) -> LayerResult:
    """One layer's arrays, float32 with the batch dim dropped, from a forward pass that stops at that
    layer: a new photo's first view (C1) costs C1's convolution, not the whole network and a copy
    of every layer's output (reruns unpickle this one layer)."""
    from alexnet_viz.analysis.probe import capture
    from alexnet_viz.core.arrays import to_numpy

    # capture's tensors are its own copies, held by nothing else: no second copy
    out = {k: to_numpy(v[0], copy=False) for k, v in capture(_model(key), _tensor(ref, key.spec), [name]).items()}
    post = out[name]
    stats = pf.channel_stats(post) if post.ndim == 3 else {}
    return LayerResult(post=post, pre=out.get(f"{name}.pre"), stats=stats)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def view_jpeg(ref: ImageRef, spec: Spec) -> bytes:
    """The picture the network sees, encoded once (st.image would re-encode an array every rerun)."""
    return mosaic.jpeg_bytes(prepare(ref, spec).view)


@st.cache_data(hash_funcs=HASH, max_entries=256, max_size="8MiB", show_spinner=False)
def channel_overlay_jpeg(ref: ImageRef, key: ModelKey, name: str, channel: int) -> bytes:
    """One channel's activation blended over the network's view of the image."""
    res = layer(ref, key, name)
    return mosaic.jpeg_bytes(mosaic.overlay(prepare(ref, key.spec).view, res.post[channel]))


@st.cache_data(hash_funcs=HASH, max_entries=256, max_size="16MiB", show_spinner=False)
def receptive_field_png(ref: ImageRef, spec: Spec, name: str, row: int, col: int) -> bytes:
    """The unit's receptive field outlined on the network's view of the image (PNG: a crisp outline)."""
    box = receptive_field(spec, name, row, col)
    return mosaic.png_bytes(mosaic.draw_box(prepare(ref, spec).view, box))


@st.cache_data(hash_funcs=HASH, max_entries=256, max_size="32MiB", show_spinner=False)
def layer_npy(ref: ImageRef, key: ModelKey, name: str) -> bytes:
    """The layer's output as a .npy file, for the download button."""
    buf = io.BytesIO()
    np.save(buf, layer(ref, key, name).post)
    return buf.getvalue()


@st.cache_data(max_entries=16, show_spinner=False)
def blank_softmax(key: ModelKey) -> SoftmaxTop:
    """The softmax's top 5 for a blank grey input: what the network says with no photo at all (the lesson's
    last step and the Prediction page's untrained note set a photo's answer beside it)."""
    from alexnet_viz.analysis import lesson

    return lesson.softmax_top(lesson.blank_logits(shared_model(key)), 5)


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner="Classifying…")
def prediction(ref: ImageRef, key: ModelKey, k: int = 5) -> Prediction:
    """Top-k classes with the warm latency of one forward pass on the server's device."""
    from alexnet_viz.analysis.probe import predict

    return predict(_model(key), _tensor(ref, key.spec), k=k)


@st.cache_data(hash_funcs=HASH, max_entries=64, max_size="16MiB", show_spinner=False)
def explanation(ref: ImageRef, key: ModelKey, method: str, target: int) -> np.ndarray:
    """An attribution map (S, S) in [0, 1] for class `target` by Grad-CAM, saliency or occlusion."""
    from alexnet_viz.analysis import explain

    fn = explain.METHODS[method]
    return np.asarray(fn(_model(key), _tensor(ref, key.spec), target), dtype=np.float32)


@st.cache_data(hash_funcs=HASH, max_entries=128, show_spinner=False)
def explanation_jpeg(ref: ImageRef, key: ModelKey, method: str, target: int) -> bytes:
    """The attribution map blended over the network's view, as JPEG bytes."""
    heat = explanation(ref, key, method, target)
    return mosaic.jpeg_bytes(mosaic.overlay(prepare(ref, key.spec).view, heat))


# Figures are cached as shared objects (cache_resource): building a plotly figure costs 10-60 ms of
# Python, unpickling one nearly as much. st.plotly_chart only reads them, and so do the pages.
@st.cache_resource(hash_funcs=HASH, max_entries=64, show_spinner=False)
def top_figure(ref: ImageRef, key: ModelKey):
    """The top-5 bar chart with chance beside the bars (shared; never modify the returned figure)."""
    top = prediction(ref, key)
    return pf.top_k_bars(top.labels, top.probs, title=f"Top {len(top.labels)} classes",
                         classes=key.spec.layers[-1].out)


@st.cache_data(hash_funcs=HASH, max_entries=16, show_spinner=False)
def kernels(key: ModelKey) -> dict[str, np.ndarray]:
    """Each conv layer's weights (out, in/groups, k, k) as float32 on the CPU (copies: never the model's)."""
    from alexnet_viz.core.arrays import to_numpy

    model = _model(key)
    return {name: to_numpy(model.weight(name))
            for name in model.layer_names if model.spec.layer(name).kind == "conv"}


@st.cache_data(hash_funcs=HASH, max_entries=16, show_spinner="Counting weights…")
def weight_histograms(key: ModelKey,
                      bins: int = 80) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Counts and edges of every weighted layer's weights (the fc layers hold most of them)."""
    from alexnet_viz.core.arrays import to_numpy

    model = _model(key)  # the weights are only counted here, never kept: no copy
    return {name: pf.histogram(to_numpy(model.weight(name), copy=False), bins)
            for name in model.layer_names if model.spec.layer(name).has_params}


@st.cache_resource(hash_funcs=HASH, max_entries=16, show_spinner=False)
def histogram_figure(key: ModelKey):
    """All weighted layers' histograms in one figure (shared; never modify the returned figure)."""
    return pf.weight_histograms(weight_histograms(key))


@st.cache_data(hash_funcs=HASH, max_entries=16, show_spinner=False)
def provenance(key: ModelKey) -> Provenance:
    """Where the shared model's weights came from (the library's own record, cached per key)."""
    prov = _model(key).provenance
    if prov is None:  # load_model always sets it; a bare build_model() never reaches the pages
        raise RuntimeError(f"the model for {key} has no provenance")
    return prov
