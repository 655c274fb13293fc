"""The app's weights under AppTest: ImageNet by default, the banner when its download fails, pages that never wait.

The download goes to a server on 127.0.0.1 that the test starts (or to a port nobody listens on),
through $ALEXNET_WEIGHTS_URL; the cache is a temporary TORCH_HOME.
"""
from __future__ import annotations

import hashlib

import pytest
import streamlit as st

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.pretrained import URL_ENV_VAR
from alexnet_viz.core.spec import ARTICLE, TORCHVISION
from alexnet_viz.core.weightschoice import RANDOM
from tests.fileserver import dead_port, serving
from tests.helpers import open_page
from ui.navigation import PAGE_DIR
from ui.page import FOLDED

PAGES = PAGE_DIR
# Feature maps computes a whole grid on top of the first model load: over the fast loop's ~5 s.
MODEL_PAGES = [pytest.param("feature_maps", marks=pytest.mark.slow), "filters", "prediction"]
OTHER_PAGES = ["overview", "layers", "lab", "operations", "article"]
DEAD_NAME = "alexnet-owt-7be5be79.pth"


@pytest.fixture(autouse=True)
def _imagenet_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ALEXNET_WEIGHTS", raising=False)
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # a new cache, so a new Downloader


@pytest.mark.parametrize("page", MODEL_PAGES)
def test_a_failed_download_leaves_random_weights_and_says_so(page, monkeypatch):
    monkeypatch.setenv(URL_ENV_VAR, f"http://127.0.0.1:{dead_port()}/{DEAD_NAME}")
    at = open_page(f"{PAGES}/{page}.py")
    assert not at.error
    banner = " ".join(w.value for w in at.warning)
    assert "trained weights could not be downloaded" in banner and "refused" in banner
    assert "artefacts of random numbers, not of the image" in banner
    server = [e for e in at.expander if e.label != FOLDED]  # the image pages' photo picker is folded too
    assert [e.label for e in server] == ["For whoever runs the server"]
    details = " ".join(m.value for m in server[0].markdown)
    assert "torch_home" in details and "ALEXNET_WEIGHTS" in details and "Connection refused" in details
    assert at.button(key="weights_retry")  # a way to try again
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "the ImageNet download failed" in sidebar and "computing in **float32**" in sidebar
    if page == "feature_maps":
        assert at.get("bidi_component") and at.image  # the page goes on (tile grid, close-up), random weights


def test_architecture_pages_never_start_the_download(monkeypatch):
    from ui.state import imagenet_download

    monkeypatch.setenv(URL_ENV_VAR, f"http://127.0.0.1:{dead_port()}/{DEAD_NAME}")
    for page in OTHER_PAGES:
        open_page(f"{PAGES}/{page}.py")
    assert imagenet_download().progress.state == "idle"


def _sidebar(at) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_sidebar_says_what_a_fresh_server_has_from_the_first_page(monkeypatch):
    """Issue 20: a fresh server without the file said "Weights: ImageNet" on the architecture pages."""
    from ui.state import imagenet_download

    body = b"x" * 400_000
    name = f"alexnet-owt-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with serving({name: body}, mode="stall") as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(name))
        at = open_page(f"{PAGES}/overview.py")
        assert "ImageNet (" not in _sidebar(at)
        assert "none yet: opening an image page downloads ImageNet's" in _sidebar(at)
        imagenet_download().start()  # an image page in another session started it
        at.run()
        assert "ImageNet, downloading now (" in _sidebar(at)


def test_retry_downloads_again(monkeypatch):
    body = b"not weights at all" * 1000
    name = f"alexnet-owt-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with serving({name: body}, mode="truncate") as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(name))
        at = open_page(f"{PAGES}/filters.py")
        assert "download stopped before the end" in " ".join(w.value for w in at.warning)
        assert srv.gets == 1
        at.run()
        assert srv.gets == 1  # a rerun remembers the failure
        srv.mode = "ok"
        at.button(key="weights_retry").click().run()
        assert srv.gets == 2
    # the file arrived and verified, but is no weights file: the page says so instead of crashing
    assert not at.exception and at.error and f"{name} was refused" in at.error[0].value


def test_shared_model_survives_clear_cache():
    """Any browser can send clear_cache; the shared model is held outside st.cache_resource."""
    from ui.state import shared_model

    key = ModelKey(ARTICLE, RANDOM, "cpu")
    model = shared_model(key)
    st.cache_resource.clear()
    st.cache_data.clear()
    assert shared_model(key) is model


@pytest.mark.slow
def test_default_downloads_imagenet_and_uses_it(monkeypatch, tmp_path):
    """Full-size weights (an article-shaped state dict, 244 MB) served locally load as "ImageNet"."""
    import torch

    from alexnet_viz.core.model import build_model

    path = tmp_path / "w.pth"
    torch.save(build_model(TORCHVISION, seed=3).state_dict(), path)
    body = path.read_bytes()
    name = f"alexnet-owt-{hashlib.sha256(body).hexdigest()[:8]}.pth"
    with serving({name: body}) as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(name))
        at = open_page(f"{PAGES}/filters.py")
        assert srv.gets == 1
    assert not at.error and not at.warning
    assert "ImageNet-pretrained weights" in " ".join(c.value for c in at.caption)
    assert "ImageNet (torchvision AlexNet_Weights.IMAGENET1K_V1)" in " ".join(c.value for c in at.sidebar.caption)
