"""What every page shares: the chosen variant, the server's weights and device, the cached model."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import VARIANTS, Spec
from alexnet_viz.core.weightschoice import ENV_VAR, IMAGENET, RANDOM, WeightsChoice, weights_from_env
from ui.urls import url_choice, url_write

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.download import Downloader, Progress
    from alexnet_viz.core.model import AlexNet

VARIANT_KEY = "variant"


@dataclass(frozen=True)
class Context:
    """The sidebar's choices, read by pages."""

    variant: str
    spec: Spec
    key: ModelKey  # weights are IMAGENET, RANDOM or a server-side file; never typed into a page


def requested_weights() -> WeightsChoice:
    """What whoever runs the server asked for in ALEXNET_WEIGHTS (parsed as --weights is), else ImageNet's."""
    return weights_from_env() or IMAGENET


def imagenet_download() -> Downloader:
    """This process's one download of the ImageNet file: every session reads the same progress."""
    from alexnet_viz.core.weights import imagenet_downloader

    return imagenet_downloader()


def imagenet_failure() -> Progress | None:
    """The ImageNet download's failure while it stands (None once the file is in place or a retry runs)."""
    fetcher = imagenet_download()
    progress = fetcher.progress
    return progress if progress.state == "failed" and not fetcher.dest.is_file() else None


def server_weights() -> WeightsChoice:
    """The weights the server uses now: the requested ones, or RANDOM while the ImageNet download has failed.

    Pages that need no model call this too, so it only reads state: it never starts or waits for a download.
    """
    chosen = requested_weights()
    if chosen == IMAGENET and imagenet_failure() is not None:
        return RANDOM
    return chosen


@st.cache_resource(show_spinner=False)
def server_device() -> str:
    from alexnet_viz.core.device import pick_device

    return str(pick_device(os.environ.get("ALEXNET_DEVICE") or None))


MAX_MODELS = 6  # keys held at once (variants x weights x devices); the oldest unused one is dropped
_MODELS: OrderedDict[ModelKey, AlexNet] = OrderedDict()
_KEY_LOCKS: dict[ModelKey, threading.Lock] = {}
_MODELS_LOCK = threading.Lock()


def shared_model(key: ModelKey) -> AlexNet:
    """One read-only model per key for every session; pages never modify it.

    Held in this module, not in st.cache_resource: any browser can send Streamlit's clear_cache
    message, which would make every session reload 233 MB of weights. A lock per key lets one
    thread load while the others wait for its model.
    """
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            _MODELS.move_to_end(key)
            return model
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    with key_lock:
        with _MODELS_LOCK:
            model = _MODELS.get(key)
        if model is None:
            model = key.load()
            with _MODELS_LOCK:
                _MODELS[key] = model
                while len(_MODELS) > MAX_MODELS:
                    _MODELS.popitem(last=False)
    return model


def _variant_from_url() -> str:
    wanted = st.query_params.get(VARIANT_KEY)
    return wanted if wanted in VARIANTS else "article"


def context() -> Context:
    """The current choices, for pages (the sidebar drawn by streamlit_app.py sets them)."""
    variant = st.session_state.get(VARIANT_KEY) or _variant_from_url()
    from ui.training import weights_override  # issue 14: a server run's checkpoint opened on the Training page

    checkpoint = weights_override(variant)
    weights = WeightsChoice.file(checkpoint) if checkpoint else server_weights()
    spec = VARIANTS[variant]  # the variant resolved once, here: pages and caches get the spec
    return Context(variant=variant, spec=spec, key=ModelKey(spec, weights, server_device()))


def sidebar() -> None:
    """Draw the shared sidebar; pages read its choices through context(). The variant follows the URL."""
    url_choice(VARIANT_KEY, VARIANT_KEY, list(VARIANTS), "article")
    with st.sidebar:
        variant = st.selectbox("AlexNet variant", list(VARIANTS), key=VARIANT_KEY,
                               format_func=lambda v: VARIANTS[v].title,
                               help="Three networks all called AlexNet, with different numbers.")
        url_write(VARIANT_KEY, variant)
        weights = context().key.weights
        device = server_device()
        # Pages draw in float32; bf16 (weights cast once) is for batch work on the command line.
        st.caption(f"Weights: **{_weights_label(weights, VARIANTS[variant])}**  \nDevice: **{device}**, "
                   "computing in **float32**")
        st.caption(f"Weights are set by whoever runs the server: `{ENV_VAR}=imagenet|random|PATH`.")


def _weights_label(weights: WeightsChoice, spec: Spec) -> str:
    """What the server has, read from the download's state: a page about the architecture never
    starts the download, so "ImageNet" there would claim a file that may not be on disk yet."""
    if weights == IMAGENET:
        from alexnet_viz.core.pretrained import IMAGENET1K_V1

        fetcher = imagenet_download()
        now = fetcher.progress
        if now.state in ("running", "waiting"):
            return f"ImageNet, downloading now ({now.describe()})"
        if fetcher.dest.is_file():
            return f"ImageNet ({IMAGENET1K_V1.source})"
        return "none yet: opening an image page downloads ImageNet's (random if that fails)"
    if weights == RANDOM:
        failed = requested_weights() == IMAGENET
        return f"random, untrained ({'the ImageNet download failed' if failed else spec.init_label})"
    return os.path.basename(str(weights))
