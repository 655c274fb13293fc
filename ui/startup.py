"""Preparing a freshly started server, so that its first visitors wait no longer than later ones.

A page's first run in a new process pays for what every later run finds ready: importing torch,
plotly and captum, building the shared model, checking the article, the default sample photo's
analyses. None of it depends on the visitor. So the server's start (the st.App lifespan in
streamlit_app.py) prepares in two steps. First, before the server answers its health check,
warm_process imports those libraries, builds the shared model and checks the article: work that
needs no server. Then a background thread opens every page once, as a browser would, over the
server's own websocket on loopback, in navigation order. The caches it fills are the ones every
session reads (st.cache_data, st.cache_resource, ui.state's shared models), so nothing is computed
twice and no page logic is copied here. A visitor who arrives before a page is prepared simply
runs it as before. ALEXNET_PREPARE=0 turns both steps off.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

from streamlit import config
from websockets.exceptions import WebSocketException

from alexnet_viz.serving.stclient import open_page, session

ENV_VAR = "ALEXNET_PREPARE"
PAGE_TIMEOUT_S = 120.0  # one page's first run; a page slower than this is left to its first visitor
HEALTH_TIMEOUT_S = 60.0

log = logging.getLogger("alexnet_viz.startup")
_state: dict[str, Any] = {"pages": {}, "started": None, "finished": None, "warmed": None}


def enabled() -> bool:
    return os.environ.get(ENV_VAR, "1").strip().lower() not in ("0", "false", "no", "off")


def prepared() -> dict[str, Any]:
    """What the preparation did so far: seconds per page, when it started and finished (for the load test)."""
    return {"pages": dict(_state["pages"]), "started": _state["started"], "finished": _state["finished"],
            "warmed": _state["warmed"]}


@contextlib.asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """st.App's startup hook. What is the same for every visitor and needs no server (warm_process) is done
    before the server answers its health check, as a web app loads its model before taking requests: a
    proxy sends nobody to a replica still importing torch, and a server that says it is up is ready. The
    pages, which need the server, are then opened in the background."""
    if enabled():
        await asyncio.to_thread(warm_process)
        threading.Thread(target=prepare, name="alexnet_viz-prepare", daemon=True).start()
    yield


def warm_process() -> None:
    """Import and compute, once per process, what any page's first run would otherwise pay for and is the
    same for every visitor: torch, plotly and pandas, the article's checks (the training-memory
    measurement on the meta device among them, which imports torch._dynamo: seconds) and the shared
    model, and captum for the explanations. Issue 23: done after the health check, it was still running
    when the first visitor came 5 s later."""
    t0 = time.perf_counter()
    import pandas  # noqa: F401  (the pages' tables)
    import plotly.graph_objects  # noqa: F401  (the pages' figures)

    from alexnet_viz.core.modelkey import ModelKey
    from alexnet_viz.core.spec import ARTICLE
    from alexnet_viz.core.weightschoice import IMAGENET
    from alexnet_viz.errata import findings
    from alexnet_viz.errors import AlexVizError
    from ui.state import imagenet_download, server_device, server_weights, shared_model

    key = ModelKey(ARTICLE, server_weights(), server_device())
    if key.weights != IMAGENET or imagenet_download().dest.is_file():  # a download is the page's to show
        try:
            shared_model(key)
        except AlexVizError as exc:  # a refused weights file: every page says so; the server must still start
            log.warning("The shared model was not built while starting: %s", exc)
    findings()
    import alexnet_viz.analysis.explain  # noqa: F401  (captum and matplotlib: the prediction page)

    _state["warmed"] = round(time.perf_counter() - t0, 3)


def _base() -> str:
    """The server's own loopback address, under its base URL path if it has one."""
    port = config.get_option("server.port")
    path = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"http://127.0.0.1:{port}/{path}".rstrip("/")


def _wait_healthy(http: str) -> bool:
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{http}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return True
        time.sleep(0.1)
    return False


def prepare() -> None:
    """Open every page once, in navigation order; each page's time goes to the server log."""
    http = _base()
    if not _wait_healthy(http):
        log.warning("preparation skipped: the server did not answer its health check")
        return
    _state["started"] = time.time()
    todo: list[str] = [""]
    done: set[str] = set()
    while todo:
        page = todo.pop(0)
        if page in done:
            continue
        done.add(page)
        t0 = time.perf_counter()
        try:
            with session(http) as ws:
                run = open_page(ws, page, PAGE_TIMEOUT_S)
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning("preparing /%s failed: %s", page, exc)
            continue
        if not run.finished:
            log.warning("preparing /%s: no end within %.0f s", page, PAGE_TIMEOUT_S)
        _state["pages"]["/" + page] = round(time.perf_counter() - t0, 3)
        todo += [p for p in run.pages if p not in done]
    _state["finished"] = time.time()
    total = _state["finished"] - _state["started"]
    log.warning("alexnet_viz: process warmed in %s s; %d pages prepared in %.1f s (%s)", _state["warmed"],
                len(_state["pages"]), total,
                ", ".join(f"{p} {s:.2f}" for p, s in _state["pages"].items()))
