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
