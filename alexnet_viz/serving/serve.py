"""`python -m alexnet_viz serve --replicas N`: N Streamlit processes behind HAProxy, from one command.

One Streamlit process runs every session's script on one interpreter, so a class outgrows it;
more processes need a proxy in front that keeps each browser on the process holding its
websocket (the upload PUT names a session only that process knows), passes websocket upgrades,
checks health, refuses oversized and too frequent uploads and keeps /_stcore/metrics private.
docs/SERVING.md says why HAProxy and how to run this on a real host. Here the layout is made
in a run directory: haproxy.cfg, one log per process; the replicas listen on loopback only and
share one cookie secret, so an XSRF cookie issued by one process is valid on the others after a
failover. A replica that exits is started again on its port; Ctrl-C stops everything.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from alexnet_viz.errors import AlexVizError
from alexnet_viz.train.manager import PERMISSION_ENV

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
HAPROXY = "haproxy"
UPLOAD_SLACK_BYTES = 1 << 20  # multipart framing on top of Streamlit's maxUploadSize (Streamlit allows the same)
UPLOADS_PER_MINUTE_PER_SESSION = 10  # a person picks a photo every few seconds at most
UPLOADS_PER_MINUTE_PER_ADDRESS = 300  # a class behind one school NAT shares an address
COOKIE = "alexnet_replica"


class ServeError(AlexVizError):
    """The serving layout cannot start (no haproxy, a port in use, a replica that never gets healthy)."""


@dataclass(frozen=True)
class ProxySettings:
    """What the proxy enforces; the defaults follow .streamlit/config.toml's maxUploadSize."""

    max_upload_mib: int = 15
    uploads_per_minute_per_session: int = UPLOADS_PER_MINUTE_PER_SESSION
    uploads_per_minute_per_address: int = UPLOADS_PER_MINUTE_PER_ADDRESS


def _frontend(bind: str, port: int, settings: ProxySettings) -> str:
    """The frontend's rules, up to its default backend: what no request may do, however it spells its path."""
    max_body = settings.max_upload_mib * 2**20 + UPLOAD_SLACK_BYTES
    per_session, per_address = settings.uploads_per_minute_per_session, settings.uploads_per_minute_per_address
    return f"""frontend web
    # HTTP/1.1 only: on a clear-text bind HAProxy would otherwise take HTTP/2 from any client that opens
    # with its preface (h2c), and an HTTP/2 body needs no Content-Length nor chunked framing, so it
    # streamed past the body rules below to any path but the upload's (issue 24, re-attacked).
    bind {bind}:{port} proto h1
    # The replicas route on the path decoded once (uvicorn turns every %xx into its byte, %2F included,
    # so /_stcore/%6detrics is /_stcore/metrics there), so every rule below matches `path,url_dec`, case
    # folded. A path that does not decode, or still holds a % after decoding once (double-encoded), has
    # no meaning to the app and is refused: no rule can be walked past by encoding.
    acl path_undecodable path -m sub %
    acl path_decodes path,url_dec -m found
    http-request deny deny_status 400 if path_undecodable !path_decodes
    http-request deny deny_status 400 if {{ path,url_dec -m sub % }}
    # Cache hit counts per function (they tell whether someone already uploaded a given photo) and
    # server internals: only reachable on the replicas' loopback ports.
    http-request deny deny_status 404 if {{ path,url_dec -m beg -i /_stcore/metrics }}
    acl upload path,url_dec -m beg -i /_stcore/upload_file/
    acl upload_put method PUT
    # Bodies: the app never sends one of unknown length (chunked could stream past any header check),
    # and none larger than an upload that Streamlit would accept; both are refused here, for every path,
    # before a byte of the body is read. A PUT must say its length. Uploads are counted per session
    # and per address.
    http-request deny deny_status 400 if {{ req.hdr(transfer-encoding) -m found }}
    http-request deny deny_status 413 if {{ req.hdr_val(content-length) gt {max_body} }}
    http-request deny deny_status 400 if upload_put !{{ req.hdr(content-length) -m found }}
    http-request track-sc1 path,url_dec,field(4,/) table upload_per_session if upload upload_put
    http-request track-sc2 src table upload_per_address if upload upload_put
    http-request deny deny_status 429 if upload upload_put {{ sc_http_req_rate(1,upload_per_session) gt {per_session} }}
    http-request deny deny_status 429 if upload upload_put {{ sc_http_req_rate(2,upload_per_address) gt {per_address} }}
"""


def haproxy_config(bind: str, port: int, backends: list[tuple[str, int]], settings: ProxySettings = ProxySettings(),
                   *, backend_host: str = "127.0.0.1") -> str:
    """haproxy.cfg for `backends` [(name, port)] behind `bind:port`; the same text serves a real host.

    Stickiness is a cookie HAProxy inserts (value = the replica's name): the page, its websocket and
    every upload PUT of one browser reach one process, and `redispatch` sends a browser whose
    process died to a live one, where Streamlit's reconnect starts a fresh session.
    """
    servers = "\n".join(f"    server {name} {backend_host}:{p} cookie {name} check inter 2s fall 2 rise 2"
                        for name, p in backends)
    return f"""# Generated by `python -m alexnet_viz serve` (alexnet_viz/serving/serve.py); see docs/SERVING.md.
global
    maxconn 4096

defaults
    mode http
    log stdout format raw local0 notice
    option httplog
    option redispatch
    retries 2
    timeout connect 5s
    timeout client 60s
    timeout server 120s
    # A websocket is a tunnel once upgraded: a page left open in class stays connected.
    timeout tunnel 2h
    timeout client-fin 10s
    timeout http-request 15s

{_frontend(bind, port, settings)}    default_backend streamlit

backend upload_per_session
    stick-table type string len 64 size 100k expire 10m store http_req_rate(60s)

backend upload_per_address
    stick-table type ip size 100k expire 10m store http_req_rate(60s)

backend streamlit
    balance leastconn
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk GET /_stcore/health
    http-check expect string ok
{servers}
"""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _healthy(url: str, timeout: float = 2.0) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=timeout) as resp:
        return bool(resp.read().strip() == b"ok")
    return False


def _wait(url: str, proc: subprocess.Popen, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServeError(f"{what} exited with code {proc.returncode} before answering; see its log.")
        if _healthy(url):
            return
        time.sleep(0.25)
    raise ServeError(f"{what} did not answer {url}/_stcore/health within {timeout:.0f} s; see its log.")


def _routed_to(url: str, name: str) -> bool:
    """Does the proxy send a browser whose cookie names replica `name` to it (not redispatch it)?"""
    request = urllib.request.Request(f"{url}/_stcore/health", headers={"Cookie": f"{COOKIE}={name}"})
    with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2.0) as resp:
        moved = [c for c in resp.headers.get_all("Set-Cookie") or [] if c.startswith(f"{COOKIE}=")]
        return not moved or moved[0].startswith(f"{COOKIE}={name};")
    return False


def _wait_routed(url: str, names: list[str], timeout: float) -> None:
    """Wait until the proxy's health checks have every replica up (each cookie reaches its replica)."""
    deadline = time.monotonic() + timeout
    waiting = list(names)
    while waiting and time.monotonic() < deadline:
        waiting = [n for n in waiting if not _routed_to(url, n)]
        if waiting:
            time.sleep(0.5)
    if waiting:
        raise ServeError(f"haproxy did not mark {', '.join(waiting)} up within {timeout:.0f} s; see haproxy.log.")


@dataclass
class Replica:
    """One Streamlit process on a loopback port, restartable on the same port."""

    name: str
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Layout:
    """A running proxy and its replicas; `url` is what people open."""

    url: str
    run_dir: Path
    replicas: list[Replica]
    proxy: subprocess.Popen
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def start_replica(self, replica: Replica, timeout: float = 180.0) -> None:
        out = open(replica.log, "ab")  # noqa: SIM115 - the child keeps it; closed when the child is replaced
        replica.proc = subprocess.Popen([*self.command, "--server.port", str(replica.port)], cwd=ROOT, env=self.env,
                                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        _wait(replica.url, replica.proc, f"replica {replica.name}", timeout)

    def restart_dead(self) -> list[str]:
        """Start again every replica whose process has exited and wait until the proxy routes to it."""
        restarted = []
        for replica in self.replicas:
            if replica.proc is not None and replica.proc.poll() is not None:
                self.start_replica(replica)
                restarted.append(replica.name)
        if restarted:
            _wait_routed(self.url, restarted, 60.0)
        return restarted

    def stop(self) -> None:
        stop_processes(self.proxy, *(r.proc for r in self.replicas if r.proc is not None))


def stop_processes(*procs: subprocess.Popen) -> None:
    """Ask each process to end (SIGTERM), then wait; one that is still there after 10 s is killed."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def streamlit_command(extra: list[str] | None = None) -> list[str]:
    """How each replica is started (the port is appended per replica)."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *(extra or [])]


def replica_env(env: dict[str, str] | None, secret: str) -> dict[str, str]:
    """The replicas' environment: ours plus `env`, the shared cookie secret (not allowed as a flag), and
    training from the page off unless whoever runs serve set ALEXNET_TRAINING_FROM_PAGE (many visitors,
    one machine: a run takes every core for minutes)."""
    merged = {**os.environ, **(env or {}), "STREAMLIT_SERVER_COOKIE_SECRET": secret}
    merged.setdefault(PERMISSION_ENV, "0")
    return merged


@contextlib.contextmanager
def running(replicas: int = 2, *, port: int = 8501, bind: str = "127.0.0.1", run_dir: Path | None = None,
            env: dict[str, str] | None = None, settings: ProxySettings = ProxySettings(),
            startup_timeout: float = 180.0) -> Iterator[Layout]:
    """Start `replicas` Streamlit processes and HAProxy in front of them; stop all on exit."""
    if replicas < 1:
        raise ServeError("--replicas must be at least 1.")
    if not APP.is_file():  # an installed wheel holds the library only: replicas would die at start, one by one
        raise ServeError(f"{APP} is missing: serve runs the app from a checkout of the repository "
                         "(streamlit_app.py, app_pages/ and ui/ beside alexnet_viz/); the installed package "
                         "holds the library and the CLI only. Run `python -m alexnet_viz serve` in a clone.")
    haproxy = shutil.which(HAPROXY)
    if haproxy is None:
        raise ServeError("haproxy is not installed; on Debian or Ubuntu: sudo apt-get install haproxy "
                         "(scripts/test.sh installs it for the tests).")
    run_dir = Path(run_dir) if run_dir else Path(os.environ.get("TMPDIR", "/tmp")) / f"alexnet-serve-{port}"
    run_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)  # shared: an XSRF cookie from one replica is valid on the others
    layout_env = replica_env(env, secret)
    command = streamlit_command(["--server.maxUploadSize", str(settings.max_upload_mib)])
    members = [Replica(f"r{i + 1}", free_port(), run_dir / f"replica-r{i + 1}.log") for i in range(replicas)]
    config = run_dir / "haproxy.cfg"
    config.write_text(haproxy_config(bind, port, [(r.name, r.port) for r in members], settings))
    check = subprocess.run([haproxy, "-c", "-q", "-f", str(config)], capture_output=True, text=True,
                           check=False)
    if check.returncode != 0:
        raise ServeError(f"haproxy refused {config}: {(check.stderr or check.stdout).strip()[:500]}")
    proxy_log = open(run_dir / "haproxy.log", "ab")  # noqa: SIM115 - handed to the child
    proxy = subprocess.Popen([haproxy, "-db", "-f", str(config)], stdout=proxy_log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    proxy_log.close()
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    layout = Layout(f"http://{host}:{port}", run_dir, members, proxy, command, layout_env)
    try:
        for replica in members:  # one after another: each import of torch is CPU-bound
            layout.start_replica(replica, startup_timeout)
        _wait(layout.url, proxy, "haproxy", 30.0)
        _wait_routed(layout.url, [r.name for r in members], 60.0)
        yield layout
    finally:
        layout.stop()


def serve(replicas: int = 2, *, port: int = 8501, bind: str = "127.0.0.1", run_dir: str | None = None) -> int:
    """Run the layout until Ctrl-C or SIGTERM, restarting replicas that exit."""
    stop = {"now": False}

    def _stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    with running(replicas, port=port, bind=bind, run_dir=Path(run_dir) if run_dir else None) as layout:
        print(f"serving {layout.url} with {replicas} replica(s): "
              + ", ".join(f"{r.name} on 127.0.0.1:{r.port}" for r in layout.replicas)
              + f"; config and logs in {layout.run_dir}", flush=True)
        try:
            while not stop["now"]:
                if layout.proxy.poll() is not None:
                    raise ServeError(f"haproxy exited with code {layout.proxy.returncode}; see "
                                     f"{layout.run_dir / 'haproxy.log'}.")
                for name in layout.restart_dead():
                    print(f"replica {name} had exited and was started again", file=sys.stderr, flush=True)
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    return 0
