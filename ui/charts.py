"""Plotly figures built once per process and shared by every session, ready to send.

A warm rerun of the overview cost ~0.10 s, nearly all of it in two places: st.cache_data
unpickling the 3-D figure into a new go.Figure (plotly validates every property again) and
st.plotly_chart calling figure.to_dict() (a deep copy plus base64 packing of every array).
Figures that depend only on the spec are therefore kept with st.cache_resource (one object, no
copy; the server ignores clients' clear-cache requests, see ui/hardening.py) as FrozenFigure,
whose to_dict() is computed once. Nothing may modify a shared figure: pages only pass it to
st.plotly_chart.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from alexnet_viz.figures import activations
from alexnet_viz.figures import architecture as figures


class FrozenFigure(go.Figure):
    """A finished figure whose plain-dict form was computed once (st.plotly_chart asks for it every rerun)."""

    _frozen_dict: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The dict computed by frozen(); plotly.io.to_json only reads it (and drops trace uids)."""
        return self._frozen_dict


def frozen(figure: go.Figure) -> FrozenFigure:
    """`figure` itself, made a FrozenFigure: shared by every session, sent without a new to_dict().

    The figure is re-classed in place rather than copied: go.Figure(figure) would apply plotly's
    current default template to the copy and change what is sent. Pass only a figure just built.
    """
    if isinstance(figure, FrozenFigure):
        return figure
    wire = figure.to_dict()
    figure.__class__ = FrozenFigure
    figure._frozen_dict = wire
    return figure


# The operations page draws figures from small editable matrices: the same few seeds and edits
# recur across a class, so each figure is kept per distinct input (a few kB each), in a bounded
# process-wide table keyed by the arrays' bytes. Streamlit's cache hashed the ~14 figures' arrays
# and options argument by argument: ~8 ms of a ~30 ms rerun.

_SHARED: OrderedDict[tuple[object, ...], FrozenFigure] = OrderedDict()
_SHARED_MAX = 256
_LOCK = threading.Lock()


def _shared(name: str, build: Callable[[], go.Figure], arrays: Sequence[np.ndarray], *rest: object) -> FrozenFigure:
    """The figure `build()` makes, built once per distinct (name, arrays, rest) and shared.

    Arrays are compared by dtype, shape and bytes; `rest` (titles, options) by repr. The least
    recently used entry goes when the table is full (the default seed's figures, used by every new
    visitor, stay); two sessions building the same figure at once is harmless.
    """
    key = (name, *(f"{a.dtype.str}{a.shape}".encode() + a.tobytes() for a in arrays), repr(rest))
    with _LOCK:
        figure = _SHARED.get(key)
        if figure is not None:
            _SHARED.move_to_end(key)
    if figure is None:
        built = frozen(build())
        with _LOCK:
            figure = _SHARED.setdefault(key, built)
            _SHARED.move_to_end(key)
            while len(_SHARED) > _SHARED_MAX:
                _SHARED.popitem(last=False)
    return figure


def value_grids(arrays: list[np.ndarray], titles: list[str], **options: Any) -> FrozenFigure:
    """alexnet_viz.figures.architecture.value_grids, shared and frozen."""
    return _shared("value_grids", lambda: figures.value_grids(arrays, titles, **options), arrays, titles, options)


def vector_bars(values: dict[str, np.ndarray], **options: Any) -> FrozenFigure:
    """alexnet_viz.figures.architecture.vector_bars, shared and frozen."""
    return _shared("vector_bars", lambda: figures.vector_bars(values, **options), list(values.values()),
                   list(values), options)


def heatmap(values: np.ndarray, **options: Any) -> FrozenFigure:
    """alexnet_viz.figures.activations.channel_heatmap, shared and frozen."""
    return _shared("heatmap", lambda: activations.channel_heatmap(values, **options), [values], options)


def dense_figure(x: np.ndarray, hidden: np.ndarray, output: np.ndarray, w1: np.ndarray, w2: np.ndarray,
                 **options: Any) -> FrozenFigure:
    """alexnet_viz.figures.architecture.dense_figure, shared and frozen."""
    return _shared("dense_figure", lambda: figures.dense_figure(x, hidden, output, w1, w2, **options),
                   (x, hidden, output, w1, w2), options)


def kernel_heatmap(planes: dict[str, np.ndarray], **options: Any) -> FrozenFigure:
    """alexnet_viz.figures.activations.kernel_heatmap, shared and frozen (built fresh it was ~60 % of a
    warm /filters rerun)."""
    return _shared("kernel_heatmap", lambda: activations.kernel_heatmap(planes, **options), list(planes.values()),
                   list(planes), options)

