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
from pathlib import Path

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


@pytest.mark.parametrize("page", ["feature-maps", "prediction"])
def test_hostile_weights_on_the_server_show_an_error_not_a_traceback(tmp_path, page):
    marker = tmp_path / "marker"
    weights = tmp_path / "hostile.pth"
    torch.save({"payload": _RunsCode(str(marker))}, weights)
    log = tmp_path / "server.log"
    with running_app(env={"ALEXNET_WEIGHTS": str(weights), "ALEXNET_DEVICE": "cpu"}, log=log) as (url, _proc):
        session = StreamlitSession(url, timeout=120)
        result = session.rerun("sample=cat", page)
        session.close()
    assert not marker.exists(), "the server ran code from the weights file"
    assert result.status == "ok", result.describe_failure()
    assert result.exceptions == [], f"a traceback/exception reached the page: {result.exceptions}"
    assert any("hostile.pth" in alert for alert in result.error_alerts), result.error_alerts
