"""A layer's numbers derived step by step, with the article's stated value beside each result.

The ledger gives the answers; this module shows the working (formula, the formula with the
layer's own numbers substituted, the result) so a reader can redo every step by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from alexnet_viz.core.bookkeeping import BYTES_PER_FLOAT32, Ledger, Row, ceil_out, conv_out, ledger
from alexnet_viz.core.formatting import fmt_bytes, shape_text
from alexnet_viz.core.spec import KIND_NAMES, Spec
from alexnet_viz.errata import article


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
    """The floor rule's side, and the article's own formula (a ceiling) for the layers it describes."""
    h = r.in_shape[1]
    floor_out, _ = conv_out(h, r.kernel, r.stride, r.padding)
    ceiling = ceil_out(h, r.kernel, r.stride, r.padding)
    note = "" if ceiling == floor_out else f" (cuda-convnet's and the article's ceiling formula gives {ceiling})"
    stated, agrees = (f"{ceiling} by its formula ⌈(W − K + 2P)/S⌉ + 1", ceiling == floor_out) \
        if r.name in article.NAMES else (None, None)
    steps = [Step("output side", "(H − K + 2P) / S + 1, rounded down",
                  f"({h} − {r.kernel} + 2·{r.padding}) / {r.stride} + 1 = {r.size_exact:g}",
                  f"⌊{r.size_exact:g}⌋ = {floor_out}{note}", stated, agrees)]
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
    k2 = r.kernel * r.kernel
    if r.kind == "avgpool":
        return Step("multiply-adds", "no weights: a sum and one divide per output",
                    f"{k2} values summed ({k2 - 1} adds), then divided by {k2}, per output × {c}·{h}·{w}",
                    "0 (no weights to multiply)")
    return Step("multiply-adds", "comparisons only, no multiplies",
                f"{k2} values compared ({k2 - 1} comparisons) per output × {c}·{h}·{w}", "0")


def derive(spec: Spec, name: str, input_size: int | None = None, book: Ledger | None = None) -> Derivation:
    """Every number of layer `name`, with the working, for any spec (raises KeyError for a bad name)."""
    book = book or ledger(spec, input_size)
    r = book.row(name)
    idx = [row.name for row in book.rows].index(name)
    prev = book.rows[idx - 1] if idx else None
    kind = KIND_NAMES[r.kind]
    steps: list[Step] = [_input_step(r, prev, book)]
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
    steps.append(Step("receptive field", "RF_prev + (K − 1) · jump_prev", rf_working, _rf_result(r, book)))
    title = f"{name}: {kind}" + (f", {r.out_shape[0]} kernels of {r.kernel}×{r.kernel}" if r.kind == "conv" else "")
    return Derivation(name=name, title=title, steps=tuple(steps))


def _input_step(r: Row, prev: Row | None, book: Ledger) -> Step:
    """The input's shape and where it comes from, against the article's shape and the layer it names."""
    source = prev.name if prev else "input"
    stated, agrees = _compare(r.name, r.in_shape, "in_hwc")
    said = article.layer(r.name).source if r.name in article.NAMES else None
    if stated is not None and said is not None and said != source:
        known = said in article.NAMES or said == "input"
        stated = f"{stated}, from {said}" + ("" if known else f" (it has no layer {said})")
        agrees = False
    return Step("input", "previous layer's output" if prev else "the image",
                f"from {source}" if prev else f"{book.input_size}×{book.input_size}",
                shape_text(r.in_shape) + (f", from {source}" if said not in (None, source) else ""), stated, agrees)


def _rf_result(r: Row, book: Ledger) -> str:
    """The receptive field, with the words it needs when it is wider than the (padded) input."""
    padded = book.input_size + 2 * book.rows[0].padding
    text = f"{r.rf}×{r.rf} input pixels"
    if r.rf <= book.input_size:
        return text
    pad = f", {padded}×{padded} with C1's padding" if padded != book.input_size else ""
    return (text + f": wider than the {book.input_size}×{book.input_size} input{pad}. The formula treats the input "
            "as unbounded; window positions past the edges read padding or are dropped by the rounding, so in "
            "practice the unit sees the whole image")


def _out_working(r: Row) -> str:
    if r.kind == "fc":
        return f"{r.out_shape[0]:,} neurons"
    c, h, w = r.out_shape
    return f"{c} {'kernels' if r.kind == 'conv' else 'channels kept'} × {h} × {w}"
