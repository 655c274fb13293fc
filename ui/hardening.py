"""Guards for a shared server that Streamlit 1.67 has no config option for.

Any client may send a `clear_cache` BackMsg (the viewer toolbar only hides the menu item), and
Streamlit then empties st.cache_data and st.cache_resource for every session: one visitor
repeating it every two seconds kept everyone's pages cold (0.05 s -> 1.5 s). Nobody serving a
class needs that button, so the server ignores the request; whoever runs the server clears
caches by restarting it. `install()` runs from streamlit_app.py at import, before any cached
function fills, and is idempotent.
"""
from __future__ import annotations

import logging

from streamlit.runtime.app_session import AppSession

_LOG = logging.getLogger(__name__)
_HANDLER = "_handle_clear_cache_request"


def _ignore_clear_cache(self: AppSession) -> None:
    """What a client's clear-cache request does now: a line in the server log, nothing else."""
    _LOG.warning("Ignored a clear_cache request from session %s: caches are shared by every visitor.",
                 getattr(self, "id", "?"))


def install() -> None:
    """Replace AppSession's clear-cache handler; fail loudly if a Streamlit upgrade renamed it."""
    if not hasattr(AppSession, _HANDLER):
        raise RuntimeError(f"streamlit.runtime.app_session.AppSession.{_HANDLER} is gone: the clear-cache "
                           "guard in ui/hardening.py needs updating for this Streamlit version.")
    setattr(AppSession, _HANDLER, _ignore_clear_cache)
