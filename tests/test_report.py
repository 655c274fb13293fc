"""One column list: the CLI's formats, the app's records and the downloads carry the same table."""
from __future__ import annotations

import csv
import io

from alexnet_viz import ledger
from alexnet_viz.report import HEADERS, records, render


def test_every_format_has_the_same_headers_and_the_app_the_same_records() -> None:
    book = ledger("paper")
    rows = list(csv.reader(io.StringIO(render(book, "csv"))))
    assert tuple(rows[0]) == HEADERS == tuple(records(book)[0])
    assert render(book, "markdown").splitlines()[0] == "| " + " | ".join(HEADERS) + " |"
    table_header = render(book, "table").splitlines()[1].split()
    assert table_header[:3] == ["layer", "paper", "PyTorch"]
    for line, rec in zip(rows[1:-1], records(book)):
        assert line == [str(v) for v in rec.values()]


def test_totals_line_adds_up_the_rows() -> None:
    book = ledger("torchvision")
    rows = list(csv.DictReader(io.StringIO(render(book, "csv"))))
    body, total = rows[:-1], rows[-1]
    assert total["layer"] == "total" and total["paper"] == "" and total["RF"] == ""
    for header in ("params", "MACs", "MACs no bias", "activations", "act. bytes"):
        assert int(total[header]) == sum(int(r[header]) for r in body), header
    assert int(total["params"]) == 61_100_840 == int(body[-1]["running total"])
