"""ui/charts.py's shared figure table (one figure per distinct input, bounded, least recently used out)
and ui/grids.py's media URLs."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import ui.charts as charts


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(charts, "_SHARED", type(charts._SHARED)())
    monkeypatch.setattr(charts, "_SHARED_MAX", 3)
    return charts._SHARED


def _figure(built: list[int], n: int):
    def build() -> go.Figure:
        built.append(n)
        return go.Figure(go.Bar(y=[n]))
    return build


def test_same_input_same_figure_other_bytes_other_figure(table) -> None:
    built: list[int] = []
    a = np.arange(4, dtype=np.float64)
    first = charts._shared("bars", _figure(built, 1), [a], "title")
    assert charts._shared("bars", _figure(built, 1), [a.copy()], "title") is first and built == [1]
    b = a.copy()
    b[0] = 9  # same shape and dtype, other values
    assert charts._shared("bars", _figure(built, 2), [b], "title") is not first
    assert charts._shared("bars", _figure(built, 3), [a.astype(np.float32)], "title") is not first  # other dtype
    assert charts._shared("bars", _figure(built, 4), [a], "other title") is not first
    assert built == [1, 2, 3, 4]


def test_bounded_and_the_recently_used_figure_stays(table) -> None:
    built: list[int] = []
    arrays = [np.full(2, i, dtype=np.int64) for i in range(5)]
    for i in range(3):
        charts._shared("f", _figure(built, i), [arrays[i]])
    charts._shared("f", _figure(built, 0), [arrays[0]])  # used again: now the most recent
    charts._shared("f", _figure(built, 3), [arrays[3]])  # evicts 1, the least recently used
    assert len(table) == 3 and built == [0, 1, 2, 3]
    charts._shared("f", _figure(built, 0), [arrays[0]])
    assert built == [0, 1, 2, 3]  # 0 was kept
    charts._shared("f", _figure(built, 1), [arrays[1]])
    assert built == [0, 1, 2, 3, 1]  # 1 had gone


def test_grid_media_urls_carry_the_servers_path_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tile component sets its src as given; st.image's frontend adds server.baseUrlPath itself."""
    import types

    from streamlit import config

    import ui.grids as grids

    manager = types.SimpleNamespace(add=lambda data, mime, name: "/media/abc.png")
    monkeypatch.setattr(grids.runtime, "exists", lambda: True)
    monkeypatch.setattr(grids.runtime, "get_instance", lambda: types.SimpleNamespace(media_file_mgr=manager))
    before = config.get_option("server.baseUrlPath")
    try:
        for base, expected in (("", "/media/abc.png"), ("class", "/class/media/abc.png"),
                               ("/a/b/", "/a/b/media/abc.png")):
            config.set_option("server.baseUrlPath", base)
            assert grids.media_url(b"png", "k") == expected
    finally:
        config.set_option("server.baseUrlPath", before)
