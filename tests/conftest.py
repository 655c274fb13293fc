"""Fixtures several test files share: a page's environment, an empty weights cache, a browser, a live app.
(Helpers that are plain functions live in tests/helpers.py.)"""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.helpers")  # its asserts explain themselves like a test's own


@pytest.fixture
def random_weights_on_cpu(monkeypatch):
    """Pages that need the model get random weights on the CPU: offline, and the same on every machine."""
    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")


@pytest.fixture
def empty_torch_home(monkeypatch, tmp_path) -> Path:
    """A new, empty hub cache in the test's folder, and neither a weights choice nor a weights address in the
    environment: no test reads or fills the real cache."""
    from alexnet_viz.core import weights
    from alexnet_viz.core.pretrained import URL_ENV_VAR

    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.delenv(weights.ENV_VAR, raising=False)
    monkeypatch.delenv(URL_ENV_VAR, raising=False)
    return home


@pytest.fixture(scope="module")
def browser():
    """One Debian chromium per test module (Playwright)."""
    from playwright.sync_api import sync_playwright

    from devtools.server import launch_chromium

    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_url():
    """The app on a free loopback port with random weights on the CPU, its model already loaded."""
    from devtools.server import running_app
    from devtools.stproto import StreamlitSession

    with running_app(env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}) as (url, _proc):
        warm = StreamlitSession(url, timeout=180)
        warm.rerun()  # the model loads once here, so the tests' waits measure pages, not the load
        warm.close()
        yield url
