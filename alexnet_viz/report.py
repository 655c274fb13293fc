"""Render a ledger as terminal table, CSV, JSON or Markdown (shared by the CLI and the app)."""
from __future__ import annotations

import csv
import io
import json

from .bookkeeping import Ledger, Row

FORMATS = ("table", "csv", "json", "markdown")

# (header, how to read a row); the same columns in every text format
_COLUMNS: tuple[tuple[str, object], ...] = (
    ("layer", lambda r: r.name),
    ("kind", lambda r: r.kind),
    ("input", lambda r: shape_text(r.in_shape)),
    ("output", lambda r: shape_text(r.out_shape)),
    ("k/s/p/g", lambda r: "-" if r.kind == "fc" else f"{r.kernel}/{r.stride}/{r.padding}/{r.groups}"),
    ("unrounded", lambda r: "-" if r.size_exact is None else f"{r.size_exact:g}"),
    ("params", lambda r: r.params),
    ("cumulative", lambda r: r.cumulative_params),
    ("MACs (+bias)", lambda r: r.macs_with_bias),
    ("MACs (no bias)", lambda r: r.macs_without_bias),
    ("activations", lambda r: r.activations),
    ("act. bytes", lambda r: r.activation_bytes),
    ("RF", lambda r: r.rf),
    ("jump", lambda r: r.jump),
)


def shape_text(shape: tuple[int, ...]) -> str:
    """(96, 55, 55) -> '55x55x96' (the article's H x W x C order); (4096,) -> '4096'."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}x{w}x{c}"
    return "x".join(map(str, shape))


def _fmt(v: object) -> str:
    """Thousands separators for counts (table and Markdown are read by people; CSV keeps raw ints)."""
    return f"{v:,}" if isinstance(v, int) else str(v)


def _cells(row: Row) -> list[object]:
    return [get(row) for _, get in _COLUMNS]  # type: ignore[operator]


def _totals(book: Ledger) -> list[object]:
    return ["total", "", "", "", "", "", book.total_params, book.total_params, book.total_macs_with_bias,
            book.total_macs_without_bias, book.total_activations, book.total_activation_bytes, "", ""]


def to_table(book: Ledger) -> str:
    """Aligned columns with thousands separators and a totals line, for a terminal."""
    header = [h for h, _ in _COLUMNS]
    body = [[_fmt(v) for v in _cells(r)] for r in book.rows]
    total = [_fmt(v) for v in _totals(book)]
    widths = [max(len(line[i]) for line in [header, *body, total]) for i in range(len(header))]
    numeric = [isinstance(v, int) for v in _cells(book.rows[0])]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    title = f"AlexNet ({book.spec.name}), input {book.input_size}x{book.input_size}x{book.spec.in_channels}"
    return "\n".join([title, line(header), rule, *map(line, body), rule, line(total)]) + "\n"


def to_csv(book: Ledger) -> str:
    """Raw integers, one row per layer and a totals row, for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([h for h, _ in _COLUMNS])
    writer.writerows(_cells(r) for r in book.rows)
    writer.writerow(_totals(book))
    return out.getvalue()


def to_markdown(book: Ledger) -> str:
    """The table columns as a Markdown table, for notes and the lab's download."""
    header = [h for h, _ in _COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in _cells(r)) + " |" for r in book.rows]
    lines.append("| " + " | ".join(_fmt(v) for v in _totals(book)) + " |")
    return "\n".join(lines) + "\n"


def to_json(book: Ledger) -> str:
    """Ledger.to_json_dict() indented, for scripts that read the numbers back."""
    return json.dumps(book.to_json_dict(), indent=2) + "\n"


def render(book: Ledger, fmt: str) -> str:
    """One ledger in one of FORMATS."""
    return {"table": to_table, "csv": to_csv, "json": to_json, "markdown": to_markdown}[fmt](book)
