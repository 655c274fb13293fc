"""A freshly started server prepares every page once, in the background (ui/startup.py)."""
from __future__ import annotations

import re
import time

import pytest

from devtools.server import running_app
from devtools.stproto import StreamlitSession
from ui.navigation import SECTIONS

pytestmark = pytest.mark.slow


def test_the_server_opens_every_page_once_while_it_starts(tmp_path):
    log = tmp_path / "server.log"
    with running_app(env={"ALEXNET_WEIGHTS": "random", "ALEXNET_DEVICE": "cpu"}, log=log) as (url, _proc):
        deadline = time.monotonic() + 240
        line = ""
        while time.monotonic() < deadline and not line:
            line = next((x for x in log.read_text().splitlines() if "pages prepared" in x), "")
            time.sleep(0.5)
        assert line, log.read_text()[-2000:]
        prepared = set(re.findall(r"(/[\w-]*) \d+\.\d\d", line))
        wanted = {"/", *(f"/{path}" for _, rows in SECTIONS for *_, path in rows)}
        assert wanted <= prepared, (wanted - prepared, line)
        # a visitor after the preparation finds the article checked: no exception, the page ran
        visitor = StreamlitSession(url, timeout=60)
        first = visitor.rerun("", "article")
        visitor.close()
        assert first.status == "ok" and not first.exceptions, first.describe_failure()


def test_the_process_is_warmed_before_the_server_answers_and_the_pages_after(monkeypatch):
    """The lifespan does the visitor-independent work before it yields (the server is not up until then),
    and only then starts opening pages, which needs the server."""
    import asyncio

    from ui import startup

    calls: list[str] = []
    monkeypatch.setenv(startup.ENV_VAR, "1")
    monkeypatch.setattr(startup, "warm_process", lambda: calls.append("warm"))
    monkeypatch.setattr(startup, "prepare", lambda: calls.append("pages"))

    async def serve() -> None:
        async with startup.lifespan(None):
            calls.append("serving")

    asyncio.run(serve())
    deadline = time.monotonic() + 10
    while "pages" not in calls and time.monotonic() < deadline:
        time.sleep(0.05)
    assert calls[0] == "warm" and calls.index("warm") < calls.index("serving") and "pages" in calls, calls


def test_warming_the_process_checks_the_article_and_builds_the_shared_model(monkeypatch):
    from alexnet_viz.core.modelkey import ModelKey
    from alexnet_viz.core.spec import ARTICLE
    from alexnet_viz.core.weightschoice import RANDOM
    from alexnet_viz.errata import findings
    from ui import startup, state

    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    built: list[ModelKey] = []
    monkeypatch.setattr(state, "shared_model", lambda key: built.append(key))
    findings.cache_clear()
    startup.warm_process()
    assert findings.cache_info().currsize == 1
    assert built == [ModelKey(ARTICLE, RANDOM, "cpu")]
    assert startup.prepared()["warmed"] is not None


def test_a_refused_weights_file_does_not_stop_the_server_starting(monkeypatch, tmp_path):
    """The shared model is built before the health check; a hostile weights file made the app exit (code 3)
    instead of starting and saying on every page why the file was refused."""
    import torch

    from ui import startup

    weights = tmp_path / "hostile.pth"
    torch.save({"payload": _Calls()}, weights)
    monkeypatch.setenv("ALEXNET_WEIGHTS", str(weights))
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    startup.warm_process()  # logs the refusal, raises nothing
    assert startup.prepared()["warmed"] is not None


class _Calls:
    """A pickle that asks to call a function while loading (refused by the weights reader)."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("ran",))
