"""What each page costs on a freshly started server, against a stock Streamlit app measured in the same run.

What a class feels is the first visit: the first student to open a page of a server that has just
started. For each app (a one-line stock Streamlit app, the floor, then this app) this starts a fresh
server on loopback, waits until it answers its health check and `grace` seconds more (what a server
gets before its first visitor), then opens every page once, each by a NEW session, in navigation
order, timing the request until script_finished. Then one session reruns each page `repeats` times
(the median is the warm figure). The machine is shared and noisy, so each figure is also given as
a multiple of the floor's: the ratios are what compare between runs.
"""
from __future__ import annotations

import contextlib
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alexnet_viz.errors import AlexVizError
from alexnet_viz.serving.serve import stop_processes
from alexnet_viz.serving.stclient import open_page, session

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
FLOOR_APP = 'import streamlit as st\n\nst.write("floor: the cheapest Streamlit page")\n'
GOAL_X_FLOOR = 10.0  # issue 23: every first visit within 10x the floor's
HEALTH_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class PageCost:
    """One page: its first visit by a new session and its median warm rerun, in seconds."""

    first_s: float
    warm_s: float


@dataclass(frozen=True)
class Costs:
    """A whole run: the floor's page, this app's pages, and where and under what load it ran."""

    cpu: str
    load: tuple[float, float]  # 1-minute load average before and after
    grace_s: float
    floor: PageCost
    floor_healthy_s: float  # process start to the first healthy answer
    app_healthy_s: float
    pages: dict[str, PageCost]  # "/lesson": ...

    def first_x(self, page: str) -> float:
        return self.pages[page].first_s / self.floor.first_s

    def warm_x(self, page: str) -> float:
        return self.pages[page].warm_s / self.floor.warm_s

    @property
    def worst_first_x(self) -> float:
        return max(self.first_x(p) for p in self.pages)


def cpu_name() -> str:
    """The processor, for the figures' caption."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
        return bool(resp.read().strip() == b"ok")
    return False


@contextlib.contextmanager
def fresh_server(script: Path, env: dict[str, str]) -> Iterator[tuple[str, float]]:
    """(base url, seconds from the process's start to its first healthy answer) of a new headless server on
    loopback, run from the repository (its .streamlit/config.toml applies to both apps); always stopped."""
    port = _free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() - t0 > HEALTH_TIMEOUT_S:
                raise AlexVizError(f"{script.name} did not start (exit code {proc.poll()}); run it with "
                                   f"`streamlit run {script}` to see why.")
            time.sleep(0.1)
        yield url, time.monotonic() - t0
    finally:
        stop_processes(proc)


def _first_visit(url: str, page: str) -> tuple[float, tuple[str, ...]]:
    """A new session's first run of `page`: seconds, and the navigation's pages if the server sent them."""
    with session(url) as ws:
        run = open_page(ws, page)
    if not run.finished or run.exceptions:
        raise AlexVizError(f"/{page} did not finish cleanly on a fresh server: {'; '.join(run.exceptions)}")
    return run.seconds, run.pages


def measure(script: Path, env: dict[str, str], grace: float, repeats: int) -> tuple[dict[str, PageCost], float]:
    """{"/page": PageCost} for every page of the app at `script` (in its navigation's order), and the
    seconds it took to become healthy."""
    first: dict[str, float] = {}
    with fresh_server(script, env) as (url, healthy_s):
        time.sleep(grace)
        first["/"], pages = _first_visit(url, "")
        for page in pages:
            first["/" + page] = _first_visit(url, page)[0]
        warm: dict[str, float] = {}
        with session(url) as ws:
            for page in first:
                warm[page] = statistics.median(open_page(ws, page.removeprefix("/")).seconds
                                               for _ in range(repeats))
    return {p: PageCost(first[p], warm[p]) for p in first}, healthy_s


def page_costs(env: dict[str, str], grace: float = 5.0, repeats: int = 7, app: Path = APP) -> Costs:
    """The floor's page, then every page of `app`, each on its own fresh server, with the load around them."""
    if not app.is_file():
        raise AlexVizError(f"{app} not found: page costs need the app beside the library (a repository "
                           "checkout), not the installed package alone.")
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        floor_app = Path(tmp) / "floor_app.py"
        floor_app.write_text(FLOOR_APP)
        floor, floor_healthy = measure(floor_app, env, grace, repeats)
    pages, app_healthy = measure(app, env, grace, repeats)
    return Costs(cpu_name(), (load_before, os.getloadavg()[0]), grace, floor["/"], floor_healthy, app_healthy,
                 pages)


def table(costs: Costs) -> str:
    """The figures as text: each page's first visit and warm rerun, and both as multiples of the floor's."""
    lines = [f"{costs.cpu}; 1-minute load {costs.load[0]:.2f} -> {costs.load[1]:.2f}; first visits "
             f"{costs.grace_s:g} s after the health check",
             f"{'page':16} {'first s':>8} {'x floor':>8} {'warm s':>8} {'x floor':>8}",
             f"{'floor (stock)':16} {costs.floor.first_s:8.3f} {1:8.1f} {costs.floor.warm_s:8.3f} {1:8.1f}"]
    lines += [f"{page:16} {c.first_s:8.3f} {costs.first_x(page):8.1f} {c.warm_s:8.3f} {costs.warm_x(page):8.1f}"
              for page, c in costs.pages.items()]
    lines.append(f"healthy after start: floor {costs.floor_healthy_s:.1f} s, this app {costs.app_healthy_s:.1f} s "
                 "(it prepares before it answers)")
    lines.append(f"worst first visit: {costs.worst_first_x:.1f}x the floor (goal <= {GOAL_X_FLOOR:g}x)")
    return "\n".join(lines)


def as_json(costs: Costs) -> dict[str, object]:
    """The figures as plain data, rounded to the millisecond."""
    return {"cpu": costs.cpu, "load_average": [round(v, 2) for v in costs.load], "grace_s": costs.grace_s,
            "floor": {"first_s": round(costs.floor.first_s, 3), "warm_s": round(costs.floor.warm_s, 3),
                      "healthy_s": round(costs.floor_healthy_s, 2)},
            "app_healthy_s": round(costs.app_healthy_s, 2),
            "pages": {p: {"first_s": round(c.first_s, 3), "first_x_floor": round(costs.first_x(p), 1),
                          "warm_s": round(c.warm_s, 3), "warm_x_floor": round(costs.warm_x(p), 1)}
                      for p, c in costs.pages.items()},
            "worst_first_x_floor": round(costs.worst_first_x, 1), "goal_x_floor": GOAL_X_FLOOR}
