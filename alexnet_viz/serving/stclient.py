"""The smallest Streamlit client: open a page over the server's websocket as a browser would, and time it.

Two users: the server's own start (ui/startup.py opens every page once so the caches are full) and
the first-visit measurement (serving/pagecosts.py). A session connects to /_stcore/stream with the
subprotocols the frontend sends ("streamlit", then the token slot), asks for a run of one page (its
url path; "" is the landing page) and reads ForwardMsgs until script_finished. Streamlit is
imported only here and only when a page is opened: the rest of the library never needs it.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from websockets.sync.client import ClientConnection

PAGE_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class PageRun:
    """One run of a page as the client saw it: from the request to script_finished."""

    seconds: float
    finished: bool  # False: no script_finished before the timeout
    pages: tuple[str, ...]  # the app's url paths, when the server sent its navigation (the landing page)
    exceptions: tuple[str, ...]  # exception elements the page drew (st.error is content, not counted)


@contextlib.contextmanager
def session(http_base: str, timeout: float = 10.0) -> Iterator[ClientConnection]:
    """A new websocket session on a server at `http_base` (http://host:port[/path])."""
    from websockets.sync.client import connect
    from websockets.typing import Origin, Subprotocol

    ws_base = "ws" + http_base.removeprefix("http")
    protocols = [Subprotocol("streamlit"), Subprotocol("PLACEHOLDER_AUTH_TOKEN")]
    with connect(f"{ws_base}/_stcore/stream", subprotocols=protocols, origin=Origin(http_base),
                 open_timeout=timeout, max_size=None) as ws:
        yield ws


def open_page(ws: ClientConnection, page: str, timeout: float = PAGE_TIMEOUT_S) -> PageRun:
    """Run `page` in the session and wait for its end. "/" hands over to /overview (its run is cut short
    from inside): the run it starts is what a visitor waits for, so it is followed."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page
    msg.rerun_script.page_script_hash = ""
    start = time.perf_counter()
    ws.send(msg.SerializeToString())
    pages: list[str] = []
    exceptions: list[str] = []
    deadline = start + timeout
    started = False
    while time.perf_counter() < deadline:
        try:
            data = ws.recv(timeout=max(0.1, deadline - time.perf_counter()))
        except TimeoutError:
            break
        if not isinstance(data, bytes):
            continue
        fwd = ForwardMsg()
        fwd.ParseFromString(data)
        kind = fwd.WhichOneof("type")
        if kind == "new_session":
            started = True
        elif kind == "navigation":
            pages = [p.url_pathname for p in fwd.navigation.app_pages if p.url_pathname]
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            element = fwd.delta.new_element
            if element.WhichOneof("type") == "exception":
                exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif kind == "script_finished" and started:
            if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                started = False
                continue
            return PageRun(time.perf_counter() - start, True, tuple(pages), tuple(exceptions))
    return PageRun(time.perf_counter() - start, False, tuple(pages), tuple(exceptions))
