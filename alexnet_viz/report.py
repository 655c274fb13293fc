"""The ledger as a table: one column list for the CLI's formats, the app's tables and the downloads.

Every place that shows the ledger row by row reads `COLUMNS`, so the terminal, the overview, the
lab and its CSV/JSON/Markdown files carry the same headers and the same numbers.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

from alexnet_viz.core.bookkeeping import Ledger, Row
from alexnet_viz.core.formatting import fmt_count, shape_text

FORMATS = ("table", "csv", "json", "markdown")
NOT_APPLICABLE = "-"  # a field that a fully connected layer does not have

Cell = int | str


@dataclass(frozen=True)
class Column:
    """A header, how to read it from a row, and (for counts that add up) from the ledger's totals."""

    header: str
    cell: Callable[[Row], Cell]
    total: Callable[[Ledger], Cell] | None = None
    help: str = ""
    count: bool = False  # whole numbers: right-aligned with separators in text, a number column in the app


def _geometry(r: Row) -> str:
    return NOT_APPLICABLE if r.kind == "fc" else f"{r.kernel}/{r.stride}/{r.padding}/{r.groups}"


COLUMNS: tuple[Column, ...] = (
    Column("layer", lambda r: r.name, lambda b: "total", "the article's name (C1 … F11)"),
    Column("paper", lambda r: r.paper_name, help="the paper's numbering: conv1 … conv5, pool1/2/5, fc6 … fc8"),
    Column("PyTorch", lambda r: r.torch_name, help="the module's path in the model (Netron shows the same)"),
    Column("kind", lambda r: r.kind, help="conv: convolution; maxpool / avgpool: max or average pooling (the "
           "article's S layers); fc: fully connected"),
    Column("input", lambda r: shape_text(r.in_shape), help="H x W x C, as the article writes shapes"),
    Column("output", lambda r: shape_text(r.out_shape), help="H x W x C, as the article writes shapes"),
    Column("k/s/p/g", _geometry, help="kernel / stride / padding / groups: the window's side in pixels, its step, "
           "the zeros added at each border, and how many separate groups the channels are split into (2: the "
           "paper's two GPUs). '-': a fully connected layer has none"),
    Column("unrounded", lambda r: NOT_APPLICABLE if r.size_exact is None else f"{r.size_exact:g}",
           help="the output's side before rounding: (H - K + 2P) / S + 1. A fraction means the window's last step "
           "does not fit and PyTorch rounds down (drops it). '-': a fully connected layer has no window"),
    Column("params", lambda r: r.params, lambda b: b.total_params, "parameters: weights and biases", True),
    Column("running total", lambda r: r.cumulative_params, lambda b: b.total_params,
           "parameters so far: this layer's and every layer's above it", True),
    Column("MACs", lambda r: r.macs_with_bias, lambda b: b.total_macs_with_bias,
           "multiply-adds (MACs: one multiplication and one addition) per image, bias adds included "
           "(torchinfo's count)", True),
    Column("MACs no bias", lambda r: r.macs_without_bias, lambda b: b.total_macs_without_bias,
           "multiply-adds of the weights alone, without the bias each output unit adds once", True),
    Column("activations", lambda r: r.activations, lambda b: b.total_activations,
           "numbers in the output (H x W x C)", True),
    Column("act. bytes", lambda r: r.activation_bytes, lambda b: b.total_activation_bytes,
           "the output's memory in float32", True),
    Column("RF", lambda r: r.rf, help="receptive field: the side, in input pixels, that one output unit sees",
           count=True),
    Column("jump", lambda r: r.jump, help="input pixels between neighbouring output units", count=True),
)
HEADERS = tuple(c.header for c in COLUMNS)


def cells(row: Row) -> list[Cell]:
    """One ledger row in column order, raw values (ints stay ints)."""
    return [c.cell(row) for c in COLUMNS]


def totals(book: Ledger) -> list[Cell]:
    """The totals line in column order; columns that do not add up are left empty."""
    return [c.total(book) if c.total else "" for c in COLUMNS]


def records(book: Ledger) -> list[dict[str, Cell]]:
    """The ledger as table records for a page (raw ints, so the app formats and sorts them)."""
    return [dict(zip(HEADERS, cells(r))) for r in book.rows]


def to_table(book: Ledger) -> str:
    """Aligned columns with thousands separators and a totals line, for a terminal."""
    body = [[fmt_count(v) for v in cells(r)] for r in book.rows]
    total = [fmt_count(v) for v in totals(book)]
    header = list(HEADERS)
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(len(header))]
    numeric = [c.count for c in COLUMNS]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    title = f"AlexNet ({book.spec.name}), input {book.input_size}x{book.input_size}x{book.spec.in_channels}"
    return "\n".join([title, line(header), rule, *map(line, body), rule, line(total)]) + "\n"


def to_csv(book: Ledger) -> str:
    """Raw integers, one row per layer and a totals row, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    writer.writerows(cells(r) for r in book.rows)
    writer.writerow(totals(book))
    return out.getvalue()


def to_markdown(book: Ledger) -> str:
    """The table columns as a Markdown table, for notes and the lab's download."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join("---" for _ in HEADERS) + "|"]
    lines += ["| " + " | ".join(fmt_count(v) for v in cells(r)) + " |" for r in book.rows]
    lines.append("| " + " | ".join(fmt_count(v) for v in totals(book)) + " |")
    return "\n".join(lines) + "\n"


def to_json(book: Ledger) -> str:
    """Ledger.to_json_dict() indented, for scripts that read every field back (names included)."""
    return json.dumps(book.to_json_dict(), indent=2) + "\n"


def render(book: Ledger, fmt: str) -> str:
    """One ledger in one of FORMATS."""
    return {"table": to_table, "csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt](book)


__all__ = ["COLUMNS", "FORMATS", "HEADERS", "NOT_APPLICABLE", "Column", "cells", "records", "render", "to_csv",
           "to_json", "to_markdown", "to_table", "totals"]
