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

Third, memory: a session whose websocket closes is kept for `server.disconnectedSessionTTL`
(120 s) so that a reconnect can resume it, in a TTL cache of at most 128 sessions. Streamlit 1.67
drops a session from that cache when it expires or is pushed out without shutting it down, and
only shutting down releases the session's uploaded files and its /media/ references: every closed
session's photo stayed in memory for the life of the process, and expired entries are only reaped
when another session disconnects. Here a session the cache drops is shut down (a session that
reconnects is active again before it leaves the cache, and stays), and the event loop reaps
expired sessions every REAP_EVERY_S seconds.

`install()` runs from streamlit_app.py on every script run, before any cached function fills (so
the connection of the process's very first visitor keeps Nagle), and is idempotent.
"""
from __future__ import annotations

import asyncio
import asyncio.base_events
import logging
import socket
from typing import Any, cast

from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.caching.ttl_cache import TTLCache
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.websocket_session_manager import WebsocketSessionManager

_LOG = logging.getLogger(__name__)
_HANDLER = "_handle_clear_cache_request"
REAP_EVERY_S = 10.0
_REAPING = "_alexnet_viz_reaping"  # set on the storage once its cache shuts down what it drops


def _ignore_clear_cache(self: AppSession) -> None:
    """What a client's clear-cache request does now: a line in the server log, nothing else."""
    _LOG.warning("Ignored a clear_cache request from session %s: caches are shared by every visitor.",
                 getattr(self, "id", "?"))


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's check without `sock.proto == IPPROTO_TCP`, which Streamlit's accepted sockets fail."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _storage_of(runtime: Runtime) -> tuple[Any, MemorySessionStorage | None]:
    """(session manager, its MemorySessionStorage), or (None, None) for a runtime that is not a served app's
    (AppTest's); loud if Streamlit moved what the reaper uses."""
    manager = getattr(runtime, "_session_mgr", None)
    if not isinstance(manager, WebsocketSessionManager):
        return None, None
    storage = getattr(manager, "_session_storage", None)
    if not hasattr(manager, "_active_session_info_by_id") or not isinstance(storage, MemorySessionStorage) \
            or not isinstance(getattr(storage, "_cache", None), TTLCache):
        raise RuntimeError("Streamlit's session storage has changed: the closed-session reaper in ui/hardening.py "
                           "needs updating for this Streamlit version.")
    return manager, storage


def reap_closed_sessions(runtime: Runtime) -> bool:
    """Make the runtime's session storage shut down every session it drops, and reap it on a timer.

    The swap and every reap run on the runtime's event loop, where Streamlit itself touches the
    storage. Returns whether it was set up now (False: already, or a storage this does not know).
    """
    manager, storage = _storage_of(runtime)
    if storage is None or getattr(storage, _REAPING, False):
        return False
    setattr(storage, _REAPING, True)
    loop = runtime._get_async_objs().eventloop

    def dropped(session_id: str, info: Any) -> None:
        if session_id not in manager._active_session_info_by_id:  # a resumed session is active again first
            info.session.shutdown()

    def swap() -> None:
        old = cast(TTLCache, storage._cache)
        cache: TTLCache = TTLCache(maxsize=old.maxsize, ttl=old.ttl, on_remove=dropped)
        for key, value in old.items():
            cache[key] = value
        storage._cache = cache
        reap(cache)

    def reap(cache: TTLCache) -> None:
        cache.expire()
        if not loop.is_closed():
            loop.call_later(REAP_EVERY_S, reap, cache)

    loop.call_soon_threadsafe(swap)
    return True


def install() -> None:
    """Replace AppSession's clear-cache handler and asyncio's nodelay check, reap closed sessions;
    fail loudly if renamed."""
    if not hasattr(AppSession, _HANDLER):
        raise RuntimeError(f"streamlit.runtime.app_session.AppSession.{_HANDLER} is gone: the clear-cache "
                           "guard in ui/hardening.py needs updating for this Streamlit version.")
    setattr(AppSession, _HANDLER, _ignore_clear_cache)
    if not hasattr(asyncio.base_events, "_set_nodelay"):
        raise RuntimeError("asyncio.base_events._set_nodelay is gone: the TCP_NODELAY fix in ui/hardening.py "
                           "needs updating for this Python version.")
    asyncio.base_events._set_nodelay = _set_nodelay
    if Runtime.exists():  # a served app (AppTest runs scripts without one)
        reap_closed_sessions(Runtime.instance())
