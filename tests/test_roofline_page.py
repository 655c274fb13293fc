"""AppTest for the overview's roofline: the ledger's intensities at once, the server's roofs on request."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

import ui.roofline
from alexnet_viz.analysis import bench
from alexnet_viz.core.spec import ARTICLE
from ui.navigation import PAGE_DIR


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _by_traces(at: AppTest, *names: str) -> list[dict]:
    """The charts that have traces of all these names."""
    return [c for c in _charts(at) if set(names) <= {t.get("name") for t in c["data"]}]


def test_the_roofline_shows_intensities_then_measures_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui.roofline, "MEASURE", {"batches": (1, 2), "repeats": 1})  # a tiny measurement
    monkeypatch.setattr(bench, "MATMUL_SIDE", 256)
    monkeypatch.setattr(bench, "BANDWIDTH_BYTES", 8 * 2**20)
    at = AppTest.from_file(f"../{PAGE_DIR}/overview.py", default_timeout=300).run()
    assert not at.exception, at.exception
    (plain,) = _by_traces(at, "batch 1", "batch 128")
    points = {t["name"]: t for t in plain["data"] if t.get("mode") == "markers"}
    assert list(points["batch 1"]["y"]) == list(ARTICLE.names)  # one point per layer, at each batch
    assert len(points["batch 128"]["x"]) == len(ARTICLE.names)
    assert not plain["layout"].get("shapes")  # no ridge before a measurement
    assert not _by_traces(at, "roof")
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "arithmetic intensity" in text and "Measuring this server" in text and "Sec. 5" in text

    at.button(key="roofline_measure").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    (measured,) = _by_traces(at, "roof", "batch 1", "batch 2")
    points = {t["name"]: t for t in measured["data"] if t.get("mode") == "markers"}
    assert list(points["batch 1"]["text"]) == list(ARTICLE.names) and len(points["batch 2"]["x"]) == 11
    assert all(y > 0 for y in points["batch 1"]["y"])  # GFLOP/s as measured
    (ridged,) = _by_traces(at, "batch 1", "batch 128")
    assert ridged["layout"]["shapes"]  # the ridge, now that it is known
    text = "\n".join(str(m.value) for m in at.markdown)
    assert "This server" in text and "two GPUs mattered" in text and "Measuring this server" not in text
    assert "roofline_measure" not in [b.key for b in at.button]  # measured once for the server
    assert len(at.dataframe) >= 2  # the overview's ledger and the roofline's table
    again = AppTest.from_file(f"../{PAGE_DIR}/overview.py", default_timeout=300).run()  # a new visitor
    assert _by_traces(again, "roof") and "roofline_measure" not in [b.key for b in again.button]
