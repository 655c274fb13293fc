"""What several test files share: where the app's pages live, opening a page in AppTest, a browser."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
APP = "../streamlit_app.py"  # for AppTest.from_file, relative to this folder


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 300) -> AppTest:
    """A page as a visitor reaches it: the entry script with `query` in the address, then `page`; no exception."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params.update(query or {})
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture
def random_weights_on_cpu(monkeypatch):
    """Pages that need the model get random weights on the CPU: offline, and the same on every machine."""
    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")


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
