"""A layer's numbers derived step by step, with the article's stated value beside each result.

The ledger gives the answers; this module shows the working (formula, the formula with the
layer's own numbers substituted, the result) so a reader can redo every step by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from . import article
from .bookkeeping import BYTES_PER_FLOAT32, Ledger, Row, ceil_out, conv_out, ledger
from .report import shape_text
from .spec import ARTICLE, KIND_NAMES, LRN, VARIANTS, Spec, get_spec


@dataclass(frozen=True)
class Step:
    """One line of working: what is computed, how, and whether the article agrees."""

    label: str
    formula: str
    working: str
    result: str
    article: str | None = None  # the article's stated value, when it states one
    agrees: bool | None = None  # None when there is nothing to compare


@dataclass(frozen=True)
class Derivation:
    """All the working for one layer, in reading order, so any page can lay it out its own way."""

    name: str
    title: str
    steps: tuple[Step, ...]

    def to_markdown(self) -> str:
        """A Markdown table of the steps (rendered by the Layers page and usable anywhere)."""
        lines = ["| step | formula | with this layer's numbers | result | article | |",
                 "|---|---|---|---|---|---|"]
        for s in self.steps:
            mark = "" if s.agrees is None else ("✓ agrees" if s.agrees else "✗ differs")
            lines.append(f"| {s.label} | {_md(s.formula)} | {_md(s.working)} | **{_md(s.result)}** | "
                         f"{_md(s.article or '—')} | {mark} |")
        return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def fmt_bytes(n: int) -> str:
    """Bytes in the largest binary unit that keeps the number readable."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,} B"


def _compare(name: str, computed: object, attr: str) -> tuple[str | None, bool | None]:
    try:
        stated = getattr(article.layer(name), attr)
    except KeyError:
        return None, None
    if stated is None:
        return None, None
    if not isinstance(stated, tuple):
        return f"{stated:,}", stated == computed
    shape = article.chw(stated)
    if isinstance(computed, tuple) and len(computed) == 1 and len(shape) == 3:  # "a flattened (6 × 6 × 256)"
        return f"{shape_text(shape)} flattened = {math.prod(shape):,}", math.prod(shape) == computed[0]
    return shape_text(shape), shape == computed


def _size_steps(r: Row) -> list[Step]:
    h = r.in_shape[1]
    floor_out, _ = conv_out(h, r.kernel, r.stride, r.padding)
    ceiling = ceil_out(h, r.kernel, r.stride, r.padding)
    note = "" if ceiling == floor_out else f" (the article's ceiling formula gives {ceiling})"
    steps = [Step("output side", "(H − K + 2P) / S + 1, rounded down",
                  f"({h} − {r.kernel} + 2·{r.padding}) / {r.stride} + 1 = {r.size_exact:g}",
                  f"⌊{r.size_exact:g}⌋ = {floor_out}{note}")]
    if r.adaptive is not None:
        steps.append(Step("adaptive pool", "AdaptiveAvgPool2d to a fixed side",
                          f"{floor_out}×{floor_out} → {r.adaptive}×{r.adaptive}", f"{r.adaptive}"))
    return steps


def _param_step(r: Row) -> Step:
    if r.kind == "fc":
        n_in, n_out = r.in_shape[0], r.out_shape[0]
        formula, working = "(N_in + 1) · N_out", f"({n_in:,} + 1) · {n_out:,}"
    elif r.kind == "conv":
        c_in, c_out = r.in_shape[0], r.out_shape[0]
        formula = "(K · K · C_in / groups + 1) · C_out"
        working = f"({r.kernel}·{r.kernel}·{c_in}/{r.groups} + 1) · {c_out}"
    else:
        formula, working = "pooling has no weights", "0"
    stated, agrees = _compare(r.name, r.params, "params")
    return Step("parameters", formula, working, f"{r.params:,}", stated, agrees)


def _macs_step(r: Row) -> Step:
    if r.kind == "fc":
        return Step("multiply-adds", "N_in · N_out (+ N_out bias adds)",
                    f"{r.in_shape[0]:,} · {r.out_shape[0]:,}",
                    f"{r.macs_without_bias:,} (+bias: {r.macs_with_bias:,})")
    if r.kind == "conv":
        c, h, w = r.out_shape
        per = r.kernel * r.kernel * r.in_shape[0] // r.groups
        return Step("multiply-adds", "K · K · C_in / groups per output × C_out · H_out · W_out",
                    f"{per:,} · {c}·{h}·{w}", f"{r.macs_without_bias:,} (+bias: {r.macs_with_bias:,})")
    c, h, w = r.out_shape
    return Step("multiply-adds", "comparisons only, no multiplies",
                f"{r.kernel}·{r.kernel} values compared per output × {c}·{h}·{w}", "0")


def derive(spec_or_name: str | Spec, name: str, input_size: int | None = None,
           book: Ledger | None = None) -> Derivation:
    """Every number of layer `name`, with the working, for any spec (raises KeyError for a bad name)."""
    spec = get_spec(spec_or_name)
    book = book or ledger(spec, input_size)
    r = book.row(name)
    idx = [row.name for row in book.rows].index(name)
    prev = book.rows[idx - 1] if idx else None
    kind = KIND_NAMES[r.kind]
    steps: list[Step] = [Step("input", "previous layer's output" if prev else "the image",
                              f"from {prev.name}" if prev else f"{book.input_size}×{book.input_size}",
                              shape_text(r.in_shape), *_compare(name, r.in_shape, "in_hwc"))]
    if r.kind != "fc":
        steps += _size_steps(r)
    steps.append(Step("output", "channels × side × side" if r.kind != "fc" else "features",
                      _out_working(r), shape_text(r.out_shape), *_compare(name, r.out_shape, "out_hwc")))
    steps.append(_param_step(r))
    before = prev.cumulative_params if prev else 0
    stated, agrees = _compare(name, r.cumulative_params, "running_total")
    steps.append(Step("running total", "parameters so far + this layer's",
                      f"{before:,} + {r.params:,}", f"{r.cumulative_params:,}", stated, agrees))
    steps.append(_macs_step(r))
    steps.append(Step("activation memory", "output elements × 4 bytes (float32)",
                      f"{r.activations:,} · {BYTES_PER_FLOAT32}", fmt_bytes(r.activation_bytes)))
    prev_rf, prev_jump = (prev.rf, prev.jump) if prev else (1, 1)
    if r.kind == "fc" and prev and prev.kind != "fc":
        rf_working = f"{prev_rf} + ({prev.out_shape[1]} − 1)·{prev_jump}: sees the whole map"
    elif r.kind == "fc":
        rf_working = f"{prev_rf}: already the whole input"
    else:
        rf_working = f"{prev_rf} + ({r.kernel} − 1)·{prev_jump}; jump {prev_jump}·{r.stride} = {r.jump}"
    steps.append(Step("receptive field", "RF_prev + (K − 1) · jump_prev", rf_working,
                      f"{r.rf}×{r.rf} input pixels"))
    title = f"{name}: {kind}" + (f", {r.out_shape[0]} kernels of {r.kernel}×{r.kernel}" if r.kind == "conv" else "")
    return Derivation(name=name, title=title, steps=tuple(steps))


def _out_working(r: Row) -> str:
    if r.kind == "fc":
        return f"{r.out_shape[0]:,} neurons"
    c, h, w = r.out_shape
    return f"{c} {'kernels' if r.kind == 'conv' else 'channels kept'} × {h} × {w}"


_COMPARED = (("out", "width"), ("padding", "padding"), ("groups", "groups"), ("lrn", "LRN"),
             ("adaptive", "adaptive pool"))


def variant_differences(input_size: int | None = None) -> list[dict]:
    """Per layer, what differs between the variants, then each variant's output shape and parameters."""
    books = {name: ledger(spec, input_size) for name, spec in VARIANTS.items()}
    heading = f"differences ({' / '.join(books)})"
    records = []
    for i, name in enumerate(ARTICLE.names):
        layers = [VARIANTS[v].layers[i] for v in books]
        diffs = []
        for field, label in _COMPARED:
            values = [getattr(layer, field) for layer in layers]
            if len(set(map(repr, values))) > 1:
                diffs.append(f"{label} {' / '.join(_short(x) for x in values)}")
        rec: dict[str, object] = {"layer": name, heading: " · ".join(diffs) or "same"}
        for v, book in books.items():
            rec[f"{v} output"] = shape_text(book.rows[i].out_shape)
            rec[f"{v} params"] = book.rows[i].params
        records.append(rec)
    return records


def _short(value: object) -> str:
    if value is None:
        return "–"
    return "yes" if isinstance(value, LRN) else str(value)


def ledger_records(book: Ledger) -> list[dict]:
    """The ledger as table records for a page (shapes in the article's H×W×C order)."""
    return [{"layer": r.name, "kind": r.kind, "input": shape_text(r.in_shape), "output": shape_text(r.out_shape),
             "kernel/stride/pad/groups": "—" if r.kind == "fc" else f"{r.kernel}/{r.stride}/{r.padding}/{r.groups}",
             "unrounded side": "—" if r.size_exact is None else f"{r.size_exact:g}", "params": r.params,
             "running total": r.cumulative_params, "MACs": r.macs_with_bias, "activations": r.activations,
             "receptive field": r.rf} for r in book.rows]


def where_it_lives(book: Ledger) -> dict[str, float | str]:
    """Shares of parameters and multiply-adds held by the fully connected and the convolution layers."""
    total_p, total_m = max(book.total_params, 1), max(book.total_macs_with_bias, 1)
    share: dict[str, float | str] = {}
    for kind in ("fc", "conv"):
        rows = [r for r in book.rows if r.kind == kind]
        share[f"{kind}_params"] = sum(r.params for r in rows) / total_p
        share[f"{kind}_macs"] = sum(r.macs_with_bias for r in rows) / total_m
        share[f"{kind}_layers"] = ", ".join(r.name for r in rows)
    return share
