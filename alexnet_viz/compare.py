"""Comparisons across layers and across variants: what differs between the three AlexNets, and
where a network keeps its parameters and does its work (the overview's two comparisons)."""
from __future__ import annotations

from alexnet_viz.core.bookkeeping import Ledger, ledger
from alexnet_viz.core.formatting import shape_text
from alexnet_viz.core.spec import ARTICLE, LRN, VARIANTS

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


__all__ = ["variant_differences", "where_it_lives"]
