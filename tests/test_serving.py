"""The app as served: its config, the upload limit and XSRF check of the real server, hostile
weights chosen by the server's operator, and sessions that must not see each other's photos.

These start real Streamlit servers on 127.0.0.1 (devtools.server.running_app) and talk to them
over HTTP and the websocket as the browser does; the last one drives two Chromium contexts.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import pytest
import requests
import torch

from devtools.server import ROOT, running_app
from devtools.stproto import StreamlitSession
from tests.helpers import RunsCode

pytestmark = pytest.mark.slow  # real servers and subprocesses

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


def test_hostile_weights_on_the_server_show_an_error_not_a_traceback(tmp_path):
    marker = tmp_path / "marker"
    weights = tmp_path / "hostile.pth"
    torch.save({"payload": RunsCode(str(marker))}, weights)
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


def test_deep_link_on_a_fresh_server_finds_its_page():
    """A fresh process's first run is a deep link: no 'Page not found' (app_pages/, not pages/)."""
    with running_app(env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}) as (url, _proc):
        session = StreamlitSession(url, timeout=120)
        result = session.rerun("sample=cat&layer=C1", "feature-maps")
        session.close()
    assert result.status == "ok", result.describe_failure()


@pytest.mark.browser
def test_two_browser_sessions_uploading_at_once_each_see_only_their_own(app_url):
    from playwright.sync_api import expect, sync_playwright

    from devtools.server import launch_chromium
    from ui.page import FOLDED

    photos = {"astronaut.jpg": "512×512", "rocket.jpg": "640×427"}
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            pages = {}
            for name in photos:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                page.goto(f"{app_url}/feature-maps?layer=C1")
                page.get_by_text(FOLDED).click(timeout=90_000)  # the picker is folded: the answer comes first
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


def test_a_clients_clear_cache_request_leaves_shared_caches_alone(app_url):
    """Any client can send clear_cache; the server must not empty every visitor's caches for it."""
    victim, attacker = StreamlitSession(app_url, timeout=120), StreamlitSession(app_url, timeout=120)
    try:
        assert victim.rerun().status == "ok"  # the landing page fills its figure cache
        before = _lookups(app_url, "__main__._figures")
        assert before.get("miss", 0) >= 1, before
        assert attacker.rerun().status == "ok"
        attacker.clear_cache()
        assert attacker.rerun().status == "ok"  # handled after the clear request, in order
        assert victim.rerun().status == "ok"
        after = _lookups(app_url, "__main__._figures")
    finally:
        victim.close()
        attacker.close()
    assert after.get("miss", 0) == before["miss"], f"the figures were computed again: {before} -> {after}"
    assert after.get("hit", 0) >= before.get("hit", 0) + 3


def _held_uploads(url: str) -> float:
    for line in requests.get(f"{url}/_stcore/metrics", timeout=10).text.splitlines():
        if line.startswith('cache_memory_bytes{cache_type="UploadedFileManager"'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_closed_sessions_uploads_are_released_once_it_expires():
    """Issue 24: Streamlit 1.67 drops an expired disconnected session without shutting it down, so its
    uploads stayed in memory for the life of the process (ui/hardening.py shuts it down). Here sessions
    expire 2 s after closing; the poll is bounded and asserts only that the bytes are released."""
    env = {"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu", "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "2"}
    with running_app(env=env) as (url, _proc):
        http = requests.Session()
        http.get(f"{url}/_stcore/health", timeout=10)
        sessions = [StreamlitSession(url, timeout=120) for _ in range(2)]
        for i, session in enumerate(sessions):
            assert session.rerun().status == "ok"
            assert _upload(url, http, session.session_id, 100_000 + i) == 204
        held = _held_uploads(url)
        for session in sessions:
            session.close()
        deadline = time.monotonic() + 60
        while _held_uploads(url) and time.monotonic() < deadline:
            time.sleep(1.0)
        after = _held_uploads(url)
    assert held >= 200_000 and after == 0, (held, after)


# --- Several processes behind HAProxy: `python -m alexnet_viz serve` (issue 12) ------------------

def _haproxy() -> str:
    import shutil

    path = shutil.which("haproxy")
    assert path, "haproxy is not installed: scripts/test.sh installs it (apt-get install haproxy)"
    return path


def test_generated_haproxy_config_is_valid_and_closes_what_it_must(tmp_path):
    from alexnet_viz.serving.serve import COOKIE, haproxy_config

    text = haproxy_config("0.0.0.0", 80, [("r1", 9001), ("r2", 9002)])
    (tmp_path / "haproxy.cfg").write_text(text)
    check = subprocess.run([_haproxy(), "-c", "-f", str(tmp_path / "haproxy.cfg")], capture_output=True, text=True,
                           check=False)
    assert check.returncode == 0, check.stderr
    assert "deny deny_status 404 if { path,url_dec -m beg -i /_stcore/metrics }" in text
    assert f"cookie {COOKIE} insert" in text and "option redispatch" in text and "timeout tunnel" in text
    assert "option httpchk GET /_stcore/health" in text and text.count("check inter") == 2
    assert f"gt {15 * 2**20 + 2**20}" in text  # the body limit follows maxUploadSize


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    from alexnet_viz.serving.serve import free_port, running

    _haproxy()
    with running(2, port=free_port(), run_dir=tmp_path_factory.mktemp("serve"),
                 env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}) as lay:
        yield lay


def _browser(url: str, replica: str | None = None) -> tuple[requests.Session, str]:
    """A requests session holding what a browser would after loading the page (or pinned to `replica`)."""
    from alexnet_viz.serving.serve import COOKIE

    http = requests.Session()
    if replica:
        http.cookies.set(COOKIE, replica)
    else:
        http.get(f"{url}/", timeout=30)
    http.get(f"{url}/_stcore/health", timeout=30)  # the XSRF cookie, as the page's first request sets it
    return http, "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def _put(url: str, http: requests.Session, session_id: str, n: int = 1, size: int = 1024) -> int:
    files = {"file": ("photo.png", b"\x89PNG" + b"\0" * size, "image/png")}
    headers = {"X-Xsrftoken": http.cookies.get("_streamlit_xsrf", "")}
    resp = http.put(f"{url}/_stcore/upload_file/{session_id}/file-{n}", files=files, headers=headers, timeout=30)
    return resp.status_code


@pytest.mark.slow
def test_proxy_keeps_metrics_private(layout):
    assert requests.get(f"{layout.url}/_stcore/metrics", timeout=10).status_code == 404
    assert requests.get(f"{layout.replicas[0].url}/_stcore/metrics", timeout=10).status_code == 200  # loopback
    assert requests.get(f"{layout.url}/_stcore/health", timeout=10).text == "ok"


@pytest.mark.slow
def test_uploads_reach_the_process_holding_the_websocket_and_are_limited(layout):
    from alexnet_viz.serving.serve import COOKIE

    http, cookie = _browser(layout.url)
    session = StreamlitSession(layout.url, timeout=120, cookie=cookie)
    try:
        assert session.rerun().status == "ok"
        assert _put(layout.url, http, session.session_id) == 204  # same replica as the websocket
        other = "r2" if http.cookies.get(COOKIE) == "r1" else "r1"
        stray = requests.Session()
        stray.cookies.update({**http.cookies.get_dict(), COOKIE: other})
        assert _put(layout.url, stray, session.session_id) == 400  # what happens without stickiness
        assert _put(layout.url, http, session.session_id, n=2, size=16 * 2**20) == 413  # refused by the proxy
        codes = [_put(layout.url, http, session.session_id, n=10 + i) for i in range(12)]
    finally:
        session.close()
    assert codes.count(429) >= 2 and codes[0] == 204, codes  # at most 10 uploads a minute per session


def _raw(url: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"",
         timeout: float = 15.0) -> tuple[int, bytes]:
    """A request with its path sent byte for byte (requests would decode %5f and friends first)."""
    import http.client

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# Each reaches /_stcore/metrics on a replica, which routes on the path decoded once (issue 24).
ENCODED_METRICS = ["/_stcore/%6detrics", "/%5fstcore/metrics", "/%5Fstcore/metrics", "/_stcore/metric%73",
                   "/_stcore%2fmetrics", "/_stcore%2Fmetrics", "/%5f%73%74%63%6f%72%65/%6d%65%74%72%69%63%73",
                   "/_stcore/metrics?x=%6d"]
HOSTILE_METRICS = [*ENCODED_METRICS, "/_STCORE/metrics", "/_stcore/Metrics", "/_stcore/%256detrics",
                   "/_stcore/%25%36%64etrics", "/_stcore/metrics%zz", "/_stcore/metrics%", "/_stcore/metrics/",
                   "/_stcore/metrics%00"]


@pytest.mark.slow
def test_metrics_stay_private_however_the_path_is_encoded(layout):
    replica = layout.replicas[0].url
    for path in ENCODED_METRICS:  # the attack is real: each is the metrics page on the replica itself
        status, body = _raw(replica, "GET", path)
        assert status == 200 and b"# TYPE" in body, (path, status)
    answers = {path: _raw(layout.url, "GET", path) for path in HOSTILE_METRICS}
    leaked = {path: status for path, (status, body) in answers.items() if b"# TYPE" in body or status == 200}
    assert not leaked, leaked
    assert {status for status, _ in answers.values()} <= {400, 404}
    assert _raw(layout.url, "GET", "/_stcore/health") == (200, b"ok")  # plain paths still pass


ENCODED_UPLOADS = ["/_stcore/upload%5ffile/{sid}/file-{n}", "/_stcore/upload%5Ffile/{sid}/file-{n}",
                   "/%5fstcore/upload_file/{sid}/file-{n}", "/_stcore/upload_file%2f{sid}/file-{n}",
                   "/_stcore/%75pload_file/{sid}/file-{n}"]


@pytest.mark.slow
@pytest.mark.parametrize("form", ENCODED_UPLOADS)
def test_encoded_upload_paths_meet_every_upload_limit(layout, form):
    """Issue 24: PUT /_stcore/upload%5ffile/... walked past the rate limit, the chunked refusal and the
    early size refusal (a 17 MiB body reached the replica). The encoded form must still be an upload."""
    from urllib3 import encode_multipart_formdata

    http, cookie = _browser(layout.url)
    session = StreamlitSession(layout.url, timeout=120, cookie=cookie)
    try:
        assert session.rerun().status == "ok"
        sid = session.session_id
        base = {"Cookie": cookie, "X-Xsrftoken": http.cookies.get("_streamlit_xsrf", "")}
        # Refused by the proxy on the headers alone (its own error page, not the replica's answer).
        big = _raw(layout.url, "PUT", form.format(sid=sid, n=0), {**base, "Content-Length": str(17 << 20)})
        chunked = _raw(layout.url, "PUT", form.format(sid=sid, n=0), {**base, "Transfer-Encoding": "chunked"})
        assert big[0] == 413 and b"<h1>413" in big[1], big
        assert chunked[0] == 400 and b"<h1>400" in chunked[1], chunked
        body, kind = encode_multipart_formdata({"file": ("photo.png", b"\x89PNG" + b"\0" * 1024, "image/png")})
        headers = {**base, "Content-Type": kind, "Content-Length": str(len(body))}
        codes = [_raw(layout.url, "PUT", form.format(sid=sid, n=i + 1), headers, body)[0] for i in range(12)]
    finally:
        session.close()
    assert codes[0] == 204 and codes.count(429) >= 2, codes  # it is an upload, and it is counted


def _h2_post(url: str, path: bytes, body: bytes) -> bytes:
    """An HTTP/2 request in clear text (prior knowledge, as curl --http2-prior-knowledge sends it) with a body
    and no Content-Length; what came back. HPACK literals without indexing, so no encoder is needed."""
    import socket
    import struct

    def frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload

    def literal(name: bytes, value: bytes) -> bytes:
        return b"\0" + bytes([len(name)]) + name + bytes([len(value)]) + value

    block = b"".join(literal(n, v) for n, v in ((b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
                                                  (b":authority", b"127.0.0.1")))
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"") + frame(1, 4, 1, block)
                     + frame(0, 1, 1, body))
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                answer += chunk
    return answer


@pytest.mark.slow
def test_a_body_without_a_length_cannot_arrive_over_http2(layout):
    """Re-attack of issue 24: HTTP/2 in clear text (h2c) was accepted, and its body needs neither Content-Length
    nor chunked framing, so it reached the replica past the body rules (the replica's 405 came back)."""
    answer = _h2_post(layout.url, b"/x", b"a" * 16000)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]  # the preface is a malformed HTTP/1.1 request
    assert b"Method Not Allowed" not in answer


@pytest.mark.slow
def test_killing_one_process_moves_its_users_and_nobody_else_notices(layout):
    import signal
    import threading

    pinned = {name: _browser(layout.url, name)[1] for name in ("r1", "r2")}
    victim = StreamlitSession(layout.url, timeout=120, cookie=pinned["r1"])
    bystander = StreamlitSession(layout.url, timeout=120, cookie=pinned["r2"])
    assert victim.rerun().status == "ok" and bystander.rerun().status == "ok"
    seen, stop = [], threading.Event()

    def keep_using() -> None:
        while not stop.is_set():
            seen.append(bystander.rerun("", "layers"))
            time.sleep(0.2)

    watcher = threading.Thread(target=keep_using)
    watcher.start()
    try:
        r1 = layout.replicas[0]
        os.kill(r1.proc.pid, signal.SIGKILL)
        r1.proc.wait(timeout=10)
        assert victim.rerun().status in ("disconnected", "timeout")  # its websocket is gone
        victim.close()
        moved = StreamlitSession(layout.url, timeout=120, cookie=pinned["r1"])  # the frontend's reconnect
        result = moved.rerun()
        moved.close()
        time.sleep(1.0)
    finally:
        stop.set()
        watcher.join()
        bystander.close()
    assert result.status == "ok", result.describe_failure()
    assert len(seen) >= 3 and not [r.describe_failure() for r in seen if r.failed]
    assert layout.restart_dead() == ["r1"]
    assert requests.get(f"{layout.replicas[0].url}/_stcore/health", timeout=10).text == "ok"


def test_a_frozen_figure_sends_exactly_what_the_figure_would():
    """ui/charts.py shares figures between sessions and computes their dict once; the wire JSON is unchanged."""
    import plotly.io

    from alexnet_viz.core.bookkeeping import ledger
    from alexnet_viz.figures.architecture import block_diagram, value_grids
    from ui.charts import FrozenFigure, frozen

    for make in (lambda: block_diagram(ledger("article")),
                 lambda: value_grids([torch.arange(9.0).reshape(3, 3).numpy()], ["x"], window=((0, 2), (0, 2)))):
        shared = frozen(make())
        assert isinstance(shared, FrozenFigure) and frozen(shared) is shared
        assert plotly.io.to_json(shared, validate=False) == plotly.io.to_json(make(), validate=False)
        assert plotly.io.to_json(shared, validate=False) == plotly.io.to_json(shared, validate=False)  # no drift


def test_the_documented_host_config_is_valid_haproxy():
    config = ROOT / "deploy" / "haproxy.cfg"
    check = subprocess.run([_haproxy(), "-c", "-f", str(config)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    from alexnet_viz.serving.serve import haproxy_config

    ours = haproxy_config("127.0.0.1", 8080, [(f"r{i}", 8600 + i) for i in range(1, 5)])
    documented = config.read_text()
    assert documented[documented.index("\nglobal\n"):] == ours[ours.index("\nglobal\n"):]  # no drift


def test_accepted_sockets_get_tcp_nodelay_like_streamlits_own_listener():
    """Streamlit binds socket.socket(family=...) (proto 0): asyncio then leaves Nagle on; install() fixes it."""
    import asyncio
    import socket

    import ui.hardening

    async def accepted_nodelay() -> int:
        listener = socket.socket(family=socket.AF_INET)  # exactly as Streamlit 1.67's _bind_socket makes it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        seen: list[int] = []

        def connected(reader, writer) -> None:
            seen.append(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=listener)
        _reader, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        return seen[0]

    ui.hardening.install()
    assert asyncio.run(accepted_nodelay()) == 1
