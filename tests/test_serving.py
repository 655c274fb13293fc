"""The app as served: its config, the upload limit and XSRF check of the real server, hostile
weights chosen by the server's operator, and sessions that must not see each other's photos.

These start real Streamlit servers on 127.0.0.1 (devtools.server.running_app) and talk to them
over HTTP and the websocket as the browser does; the last one drives two Chromium contexts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
import torch

from devtools.server import ROOT, running_app
from devtools.stproto import StreamlitSession

FLOOR = ROOT / "scripts" / "floor_app.py"
SAMPLES = ROOT / "assets" / "samples"


def test_config_is_fit_for_serving():
    code = ("import json; from streamlit import config; print(json.dumps({k: config.get_option(k) for k in "
            "['server.maxUploadSize', 'server.enableXsrfProtection', 'server.headless', "
            "'browser.gatherUsageStats', 'client.toolbarMode', 'client.showErrorDetails', "
            "'server.fileWatcherType']}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    opts = json.loads(out.stdout.strip().splitlines()[-1])
    assert 10 <= opts["server.maxUploadSize"] <= 20
    assert opts["server.enableXsrfProtection"] is True
    assert opts["server.headless"] is True
    assert opts["browser.gatherUsageStats"] is False
    assert opts["client.toolbarMode"] == "viewer"
    assert opts["client.showErrorDetails"] == "none"
    assert opts["server.fileWatcherType"] == "none"


def _upload(url: str, http: requests.Session, session_id: str, size: int, xsrf: bool = True) -> int:
    headers = {"X-Xsrftoken": http.cookies.get("_streamlit_xsrf", "")} if xsrf else {}
    files = {"file": ("photo.jpg", b"\xff" * size, "image/jpeg")}
    resp = http.put(f"{url}/_stcore/upload_file/{session_id}/file-1", files=files, headers=headers, timeout=30)
    return resp.status_code


@pytest.fixture(scope="module")
def floor_server():
    """The one-line app under the project's .streamlit/config.toml (the server is what is tested)."""
    with running_app(FLOOR) as (url, _proc):
        http = requests.Session()
        http.get(f"{url}/_stcore/health", timeout=10)  # sets the XSRF cookie, as for the browser
        session = StreamlitSession(url)
        assert session.rerun().status == "ok"
        yield url, http, session.session_id
        session.close()


def test_upload_under_the_limit_is_accepted(floor_server):
    url, http, session_id = floor_server
    assert _upload(url, http, session_id, 1 << 20) == 204


def test_upload_over_the_limit_is_refused_by_the_server(floor_server):
    url, http, session_id = floor_server
    limit_mb = json.loads(subprocess.run(
        [sys.executable, "-c", "from streamlit import config; print(config.get_option('server.maxUploadSize'))"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    assert _upload(url, http, session_id, (limit_mb << 20) + 1) == 413


def test_upload_without_xsrf_token_is_refused(floor_server):
    url, http, session_id = floor_server
    assert _upload(url, http, session_id, 1024, xsrf=False) == 403


class _RunsCode:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_hostile_weights_on_the_server_show_an_error_not_a_traceback(tmp_path):
    marker = tmp_path / "marker"
    weights = tmp_path / "hostile.pth"
    torch.save({"payload": _RunsCode(str(marker))}, weights)
    with running_app(env={"ALEXNET_WEIGHTS": str(weights), "ALEXNET_DEVICE": "cpu"}) as (url, _proc):
        session = StreamlitSession(url, timeout=120)
        session.rerun()  # the landing page first, where a visitor arrives
        results = {page: session.rerun("sample=cat", page) for page in ("feature-maps", "prediction")}
        session.close()
    assert not marker.exists(), "the server ran code from the weights file"
    for page, result in results.items():
        assert result.status == "ok", f"{page}: {result.describe_failure()}"
        assert result.exceptions == [], f"{page}: a traceback/exception reached the page: {result.exceptions}"
        assert any("hostile.pth" in alert for alert in result.error_alerts), f"{page}: {result.error_alerts}"


@pytest.fixture(scope="module")
def app_server():
    with running_app(env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}) as (url, _proc):
        warm = StreamlitSession(url, timeout=120)
        warm.rerun()  # the model loads once here, so later timeouts measure pages, not the load
        warm.close()
        yield url


def test_deep_link_on_a_fresh_server_finds_its_page():
    """A fresh process's first run is a deep link: no 'Page not found' (app_pages/, not pages/)."""
    with running_app(env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}) as (url, _proc):
        session = StreamlitSession(url, timeout=120)
        result = session.rerun("sample=cat&layer=C1", "feature-maps")
        session.close()
    assert result.status == "ok", result.describe_failure()


@pytest.mark.browser
def test_two_browser_sessions_uploading_at_once_each_see_only_their_own(app_server):
    from playwright.sync_api import expect, sync_playwright

    from devtools.server import launch_chromium

    photos = {"astronaut.jpg": "512×512", "rocket.jpg": "640×427"}
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            pages = {}
            for name in photos:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(f"{app_server}/feature-maps?layer=C1")
                expect(page.locator('[data-testid="stFileUploader"]').first).to_be_visible(timeout=90_000)
                grid = page.locator('[data-testid="stImage"] img').first
                expect(grid).to_be_visible(timeout=90_000)
                pages[name] = (page, grid.get_attribute("src"))  # the sample's grid, before the upload
            for name, (page, _) in pages.items():  # both uploads in flight together
                page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(
                    str(SAMPLES / name))
            grids = {}
            for name, (page, before) in pages.items():
                other = next(n for n in photos if n != name)
                caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Showing your upload")
                expect(caption.first).to_contain_text(name, timeout=90_000)
                expect(caption.first).to_contain_text(photos[name])
                main = page.locator('[data-testid="stMain"]')
                expect(main).not_to_contain_text(other)
                grid = page.locator('[data-testid="stImage"] img').first
                expect(grid).not_to_have_attribute("src", before, timeout=90_000)  # redrawn for the upload
                grids[name] = grid.get_attribute("src")
            assert grids["astronaut.jpg"] != grids["rocket.jpg"], "both sessions show the same channel grid"
        finally:
            browser.close()


def test_weights_cannot_be_chosen_from_the_page(monkeypatch):
    """Only whoever runs the server picks the weights: no widget for them, and the URL is ignored."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["weights"] = "/tmp/attacker.pth"
    at.run()
    assert not at.exception
    assert len(at.sidebar.text_input) == 0 and len(at.sidebar.text_area) == 0
    assert "random" in " ".join(c.value for c in at.sidebar.caption)
    assert "attacker" not in " ".join(c.value for c in at.sidebar.caption)


def _lookups(url: str, cache: str) -> dict[str, int]:
    """hit/miss counts of one cached function from the process's /_stcore/metrics (loopback only)."""
    text = requests.get(f"{url}/_stcore/metrics", timeout=10).text
    counts = {}
    for line in text.splitlines():
        if line.startswith("cache_lookups_total{") and f'cache="{cache}"' in line:
            result = line.split('result="')[1].split('"')[0]
            counts[result] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def test_a_clients_clear_cache_request_leaves_shared_caches_alone(app_server):
    """Any client can send clear_cache; the server must not empty every visitor's caches for it."""
    victim, attacker = StreamlitSession(app_server, timeout=120), StreamlitSession(app_server, timeout=120)
    try:
        assert victim.rerun().status == "ok"  # the landing page fills its figure cache
        before = _lookups(app_server, "__main__._figures")
        assert before.get("miss", 0) >= 1, before
        assert attacker.rerun().status == "ok"
        attacker.clear_cache()
        assert attacker.rerun().status == "ok"  # handled after the clear request, in order
        assert victim.rerun().status == "ok"
        after = _lookups(app_server, "__main__._figures")
    finally:
        victim.close()
        attacker.close()
    assert after.get("miss", 0) == before["miss"], f"the figures were computed again: {before} -> {after}"
    assert after.get("hit", 0) >= before.get("hit", 0) + 3
