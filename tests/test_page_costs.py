"""`alexnet-viz loadtest --page-costs`: the report's arithmetic and layout, and the client it measures with."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from alexnet_viz.cli import build_parser
from alexnet_viz.serving.pagecosts import FLOOR_APP, Costs, PageCost, as_json, fresh_server, table
from alexnet_viz.serving.stclient import open_page, session


def _costs() -> Costs:
    return Costs(cpu="Test CPU", load=(1.0, 2.0), grace_s=5.0, floor=PageCost(0.1, 0.02), floor_healthy_s=1.0,
                 app_healthy_s=8.0, pages={"/": PageCost(0.2, 0.01), "/ideas": PageCost(1.5, 0.04)})


def test_every_figure_is_given_beside_its_multiple_of_the_floor():
    costs = _costs()
    assert costs.first_x("/ideas") == pytest.approx(15.0) and costs.warm_x("/ideas") == pytest.approx(2.0)
    assert costs.worst_first_x == pytest.approx(15.0)
    text = table(costs)
    assert "floor (stock)" in text and "Test CPU" in text and "load 1.00 -> 2.00" in text
    assert any(line.split()[:5] == ["/ideas", "1.500", "15.0", "0.040", "2.0"] for line in text.splitlines())
    assert "worst first visit: 15.0x the floor (goal <= 10x)" in text
    data = as_json(costs)
    assert data["pages"]["/ideas"] == {"first_s": 1.5, "first_x_floor": 15.0, "warm_s": 0.04, "warm_x_floor": 2.0}
    assert data["floor"] == {"first_s": 0.1, "warm_s": 0.02, "healthy_s": 1.0}


def test_the_command_line_has_the_page_costs_command():
    args = build_parser().parse_args(["loadtest", "--page-costs", "--grace", "2", "--json"])
    assert args.page_costs and args.grace == 2.0 and args.json and args.weights == "random"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["loadtest"])  # the many-sessions test lives in scripts/loadtest.py


@pytest.mark.slow
def test_the_client_times_a_page_to_its_end_on_a_fresh_server():
    with tempfile.TemporaryDirectory() as tmp:
        floor = Path(tmp) / "floor.py"
        floor.write_text(FLOOR_APP)
        with fresh_server(floor, {}) as (url, healthy_s), session(url) as ws:
            run = open_page(ws, "")
    assert healthy_s > 0 and run.finished and run.seconds > 0 and not run.exceptions and run.pages == ()
