"""Guards for a shared server that Streamlit 1.67 has no config option for.

Any client may send a `clear_cache` BackMsg (the viewer toolbar only hides the menu item), and
Streamlit then empties st.cache_data and st.cache_resource for every session: one visitor
repeating it every two seconds kept everyone's pages cold (0.05 s -> 1.5 s). Nobody serving a
class needs that button, so the server ignores the request; whoever runs the server clears
caches by restarting it.

Second, latency: Streamlit 1.67 binds its listening socket with `socket.socket(family=...)`, so
accepted sockets report proto 0 and asyncio's `_set_nodelay` (which requires proto == TCP) leaves
Nagle's algorithm on. A rerun's later messages then wait for the browser's delayed ACK: every
rerun of a one-line app took 44-48 ms over loopback, 6 ms with the client acknowledging at once
(BENCHMARKS.md). The patched check sets TCP_NODELAY on every TCP stream socket.

`install()` runs from streamlit_app.py at import, before any cached function fills (so the
connection of the process's very first visitor keeps Nagle), and is idempotent.
"""
from __future__ import annotations

import asyncio.base_events
import logging
import socket

from streamlit.runtime.app_session import AppSession

_LOG = logging.getLogger(__name__)
_HANDLER = "_handle_clear_cache_request"


def _ignore_clear_cache(self: AppSession) -> None:
    """What a client's clear-cache request does now: a line in the server log, nothing else."""
    _LOG.warning("Ignored a clear_cache request from session %s: caches are shared by every visitor.",
                 getattr(self, "id", "?"))


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's check without `sock.proto == IPPROTO_TCP`, which Streamlit's accepted sockets fail."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def install() -> None:
    """Replace AppSession's clear-cache handler and asyncio's nodelay check; fail loudly if renamed."""
    if not hasattr(AppSession, _HANDLER):
        raise RuntimeError(f"streamlit.runtime.app_session.AppSession.{_HANDLER} is gone: the clear-cache "
                           "guard in ui/hardening.py needs updating for this Streamlit version.")
    setattr(AppSession, _HANDLER, _ignore_clear_cache)
    if not hasattr(asyncio.base_events, "_set_nodelay"):
        raise RuntimeError("asyncio.base_events._set_nodelay is gone: the TCP_NODELAY fix in ui/hardening.py "
                           "needs updating for this Python version.")
    asyncio.base_events._set_nodelay = _set_nodelay
