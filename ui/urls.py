"""Widgets tied to URL query parameters, so an address reproduces a view (deep links).

A link is followed whenever the address names a value this session has not seen yet, not only
when a widget is first drawn: a session sent a new link shows that view.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

_URL_SEEN = "_url_seen"  # param -> the value this session last read from or wrote to the URL


def url_news(param: str) -> str | None:
    """The URL's value of `param` if this session has not seen it yet (a link was followed), else None."""
    raw = st.query_params.get(param)
    seen = st.session_state.setdefault(_URL_SEEN, {})
    if raw is None or seen.get(param) == raw:
        return None
    seen[param] = raw
    return raw


def url_write(param: str, value: object) -> None:
    """Put a widget's value in the URL (None removes it), so the address reproduces the view."""
    seen = st.session_state.setdefault(_URL_SEEN, {})
    if value is None:
        seen.pop(param, None)
        if param in st.query_params:
            del st.query_params[param]
        return
    seen[param] = str(value)
    st.query_params[param] = str(value)


def url_choice(key: str, param: str, options: list, default: object,
               parse: Callable[[str], object] = str) -> None:
    """Seed a widget's state from the URL: when the widget is new, or when a new link names a value.

    Call before drawing the widget with `key`, and `url_write(param, value)` after it. A value not
    among `options` (a stale or hand-edited link) is matched ignoring case (`?layer=c3` is C3), else
    the current choice or `default` is shown; either way a short note says what the link asked for
    and what is shown instead.
    """
    raw = url_news(param)
    if raw is None and key not in st.session_state:
        raw = st.query_params.get(param)
    wanted = None if raw is None else _parse(raw, options, parse)
    if wanted in options:
        st.session_state[key] = wanted
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    shown = st.session_state[key]
    if raw is None or str(shown) == raw:
        return
    if wanted in options:
        st.info(f"The link asks for {param} **{raw}**: showing **{shown}**.", icon=":material/link:")
    else:
        st.info(f"The link asks for {param} **{raw}**, which is not one of {describe(options)}: showing "
                f"**{shown}** instead.", icon=":material/link_off:")


def _parse(raw: str, options: list, parse: Callable[[str], object]) -> object:
    """The option the URL names: parsed exactly, or a string option equal to it ignoring case; None if neither."""
    try:
        wanted = parse(raw)
    except ValueError:
        wanted = None
    if wanted in options:
        return wanted
    folded = {str(o).casefold(): o for o in options}
    return folded.get(raw.strip().casefold())


def describe(options: list) -> str:
    """Options in a few words: '0–95' for a run of integers, else the list (shortened)."""
    if options and all(isinstance(o, int) for o in options):
        ordered = sorted(options)
        if ordered == list(range(ordered[0], ordered[-1] + 1)):
            return f"{ordered[0]}–{ordered[-1]}"
    shown = ", ".join(map(str, options[:12]))
    return shown + (", …" if len(options) > 12 else "")


def unit_page_link(where: Any, variant: str, layer: str, channel: int, label: str, help: str) -> None:
    """A link to the unit page for (layer, channel) in `where` (st or a column): the address is written once."""
    where.page_link("app_pages/unit.py", label=label, icon=":material/center_focus_strong:",
                    query_params={"layer": layer, "channel": str(channel), "variant": variant}, help=help)
