"""What every page shares: the chosen variant, the server's weights and device, the cached model."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from alexnet_viz.modelkey import ModelKey
from alexnet_viz.spec import VARIANTS, Spec
from ui.urls import url_choice, url_write

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.model import AlexNet

VARIANT_KEY = "variant"


@dataclass(frozen=True)
class Context:
    """The sidebar's choices, read by pages."""

    variant: str
    spec: Spec
    key: ModelKey  # weights are "imagenet", "random" or a server-side path; never typed into a page


def server_weights() -> str:
    """Weights are chosen by whoever runs the server: `-- --weights X` or ALEXNET_WEIGHTS."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--weights" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--weights="):
            return arg.split("=", 1)[1]
    from alexnet_viz.weights import default_weights

    return default_weights()


@st.cache_resource(show_spinner=False)
def server_device() -> str:
    from alexnet_viz.probe import pick_device

    return str(pick_device(os.environ.get("ALEXNET_DEVICE") or None))


@st.cache_resource(show_spinner="Loading the network and its weights…", max_entries=6)
def shared_model(key: ModelKey) -> "AlexNet":
    """One read-only model per key for every session; pages never modify it."""
    return key.load()


def _variant_from_url() -> str:
    wanted = st.query_params.get(VARIANT_KEY)
    return wanted if wanted in VARIANTS else "article"


def context() -> Context:
    """The current choices, for pages (the sidebar drawn by streamlit_app.py sets them)."""
    variant = st.session_state.get(VARIANT_KEY) or _variant_from_url()
    from ui.training import weights_override  # issue 14: a server run's checkpoint opened on the Training page

    weights = weights_override(variant) or server_weights()
    return Context(variant=variant, spec=VARIANTS[variant], key=ModelKey(variant, weights, server_device()))


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
        st.caption(f"Weights: **{_weights_label(weights, VARIANTS[variant])}**  \nDevice: **{device}**")
        st.caption("Weights are set by whoever runs the server: `ALEXNET_WEIGHTS=imagenet|random|PATH`.")


def _weights_label(weights: str, spec: Spec) -> str:
    if weights == "imagenet":
        return "ImageNet (torchvision IMAGENET1K_V1)"
    if weights == "random":
        return f"random, untrained ({spec.init_label})"
    return os.path.basename(weights)
