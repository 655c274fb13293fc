"""Clickable tile grids (feature maps, kernels) with their colour bar, and colour bars for pictures.

A grid stays ONE PNG (what makes the view fast: the browser paints one image, not hundreds of
charts). A small `st.components.v2` component draws it as a plain <img>, names the channel under
the pointer (title tooltip) and reports a click on a tile as a one-run trigger value, so a click
opens that channel's close-up. The script's tile arithmetic mirrors the library's `Mosaic.tile_box`.
The PNG is served from Streamlit's /media/ endpoint, as st.image's are: the same grid keeps the
same URL, so a rerun sends its address, not its bytes (inline, C3's grid was ~0.4 MB a rerun).
"""
from __future__ import annotations

import dataclasses
import html
from dataclasses import dataclass

import numpy as np
import streamlit as st
from streamlit import runtime

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.figures import colours, mosaic
from ui import analysis
from ui.analysis import HASH, ImageRef

BAR_CSS = """
.avz-bar { max-width: 420px; margin: 0.35rem 0 0.5rem 0; font-size: 0.8rem; }
.avz-bar .ramp { height: 12px; border: 1px solid rgba(128, 128, 128, 0.5); }
.avz-bar .ends { display: flex; justify-content: space-between; }
"""
_CSS = """
.avz-grid { max-width: 100%; }
.avz-grid img { display: block; max-width: 100%; height: auto; cursor: pointer; image-rendering: pixelated; }
.avz-grid figcaption { font-size: 0.875rem; opacity: 0.7; margin-top: 0.25rem; }
""" + BAR_CSS

# Called on every render; keeps one <figure> per mount and swaps its picture when the data changes.
_JS = """
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  let fig = parentElement.querySelector('figure.avz-grid');
  if (!fig) {
    fig = document.createElement('figure');
    fig.className = 'avz-grid';
    fig.style.margin = '0';
    fig.innerHTML = '<img alt=""><figcaption></figcaption><div class="avz-bar"></div>';
    parentElement.appendChild(fig);
  }
  const img = fig.querySelector('img');
  const g = data;
  if (img.getAttribute('src') !== g.src) { img.setAttribute('src', g.src); }
  img.width = g.width;
  img.alt = g.caption;
  fig.querySelector('figcaption').textContent = g.caption;
  fig.querySelector('.avz-bar').innerHTML = g.bar;
  const tileAt = (ev) => {
    const r = img.getBoundingClientRect();
    const x = (ev.clientX - r.left) * g.width / r.width, y = (ev.clientY - r.top) * g.height / r.height;
    const c = Math.floor(x / (g.tile_w + g.gap)), row = Math.floor(y / (g.tile_h + g.gap));
    const inside = x - c * (g.tile_w + g.gap) < g.tile_w && y - row * (g.tile_h + g.gap) < g.tile_h;
    const k = row * g.cols + c;
    return inside && c < g.cols && k < g.order.length ? g.order[k] : null;
  };
  img.onmousemove = (ev) => {
    const ch = tileAt(ev);
    img.title = ch === null ? '' : `${g.unit} ${ch}: click for its close-up`;
  };
  img.onclick = (ev) => {
    const ch = tileAt(ev);
    if (ch === null) { return; }
    setTriggerValue('tile', ch);
    const target = g.scroll_to ? document.getElementById(g.scroll_to) : null;
    if (target) { target.scrollIntoView({ behavior: 'smooth', block: 'start' }); }
  };
}
"""

_COMPONENT = st.components.v2.component("alexnet_viz.tile_grid", css=_CSS, js=_JS, isolate_styles=False)


@dataclass(frozen=True)
class Bar:
    """A colour bar: the colour map's name, the values at its ends (and middle), what they measure."""

    cmap: str
    lo: str
    hi: str
    label: str
    mid: str = ""


def bar_html(bar: Bar) -> str:
    """The colour bar as a small HTML block (a CSS gradient with the values at its ends)."""
    mid = f"<span>{html.escape(bar.mid)}</span>" if bar.mid else ""
    return (f'<div class="ramp" style="background: {colours.css_gradient(bar.cmap)}"></div>'
            f'<div class="ends"><span>{html.escape(bar.lo)}</span>{mid}<span>{html.escape(bar.hi)}</span></div>'
            f"<div>{html.escape(bar.label)}</div>")


def colour_bar(bar: Bar) -> None:
    """Draw a colour bar under a picture (overlays, kernels) that is not a tile grid."""
    st.html(f"<style>{BAR_CSS}</style><div class='avz-bar'>{bar_html(bar)}</div>")


def _value(v: float) -> str:
    return f"{v:.3g}"


def _data(m: mosaic.Mosaic, caption: str, bar: Bar | None, unit: str, scroll_to: str) -> dict:
    """What the component needs besides the picture's address: the tile geometry and the labels."""
    return {"width": int(m.image.shape[1]), "height": int(m.image.shape[0]), "cols": m.cols,
            "tile_w": m.tile_w, "tile_h": m.tile_h, "gap": m.gap, "order": [int(i) for i in m.order],
            "caption": caption, "bar": "" if bar is None else bar_html(bar), "unit": unit, "scroll_to": scroll_to}


@dataclass(frozen=True)
class TileGrid:
    """A clickable grid: the component's data, the tiles' channel (or kernel) order, the PNG."""

    data: dict
    order: tuple[int, ...]
    png: bytes


def _grid(m: mosaic.Mosaic, caption: str, bar: Bar | None, unit: str, scroll_to: str) -> TileGrid:
    data = _data(m, caption, bar, unit, scroll_to)
    return TileGrid(data=data, order=tuple(data["order"]), png=m.png())


def value_bar(values: np.ndarray, pre: bool, label: str) -> Bar:
    """A bar with the true values at its ends: before the ReLU symmetric about 0 on the sign colours,
    after it from the lowest to the highest value (`label` says of what)."""
    if pre:
        bound = float(np.abs(values).max())
        return Bar(colours.DIVERGING, _value(-bound), _value(bound), f"value before the ReLU ({colours.SIGN_LEGEND})",
                   "0")
    return Bar(colours.SEQUENTIAL, _value(float(values.min())), _value(float(values.max())), label)


def feature_bar(maps: np.ndarray, pre: bool, mode: mosaic.Normalise) -> Bar:
    """The feature grid's colour bar: true values for one range per layer, each tile's own range otherwise."""
    if mode == "layer":
        return value_bar(maps, pre, "activation, one range for the layer")
    cmap = colours.DIVERGING if pre else colours.SEQUENTIAL
    if pre:
        return Bar(cmap, "−(largest |value|)", "+(largest |value|)",
                   f"each tile on its own range ({colours.SIGN_LEGEND}); hover a close-up for values", "0")
    return Bar(cmap, "tile's lowest", "tile's highest", "each tile on its own range; the close-up has the values")


@st.cache_data(hash_funcs=HASH, max_entries=256, show_spinner=False)
def feature_grid(ref: ImageRef, key: ModelKey, name: str, pre: bool, mode: mosaic.Normalise,
                 sort: mosaic.SortBy, caption: str) -> TileGrid:
    """All channels of a layer as one clickable PNG, cached by everything that changes the picture."""
    res = analysis.layer(ref, key, name)
    maps = res.pre if pre else res.post
    if maps is None or maps.ndim != 3:
        raise ValueError(f"{name} has no {'pre-ReLU ' if pre else ''}feature maps")
    cmap = colours.DIVERGING if pre else colours.SEQUENTIAL
    m = mosaic.feature_grid(maps, mode=mode, sort=sort, cmap=cmap, symmetric=pre)
    return _grid(m, caption, feature_bar(maps, pre, mode), "channel", "one-channel")


@st.cache_data(hash_funcs=HASH, max_entries=64, show_spinner=False)
def kernel_grid(key: ModelKey, name: str, lo: int, hi: int, in_channel: int | None, mode: mosaic.Normalise,
                caption: str) -> TileGrid:
    """Output kernels lo..hi-1 as clickable tiles (colour for C1, one input slice deeper), on the
    whole layer's range so both GPUs' halves are drawn alike."""
    w = analysis.kernels(key)[name]
    kernels = range(lo, hi)
    bar: Bar | None = None  # colour pictures (C1) have no scale of their own: the caption says how they are drawn
    if in_channel is None:
        m = mosaic.kernel_tiles(w, mode=mode, scale=max(2, 44 // w.shape[-1]), kernels=kernels)
    else:
        m = mosaic.kernel_slice(w, in_channel, scale=max(2, 40 // w.shape[-1]), kernels=kernels)
        bound = float(np.abs(w[:, in_channel]).max())
        bar = Bar(colours.DIVERGING, _value(-bound), _value(bound), f"weight ({colours.SIGN_LEGEND})", "0")
    m = dataclasses.replace(m, order=np.arange(lo, hi))  # tiles name the layer's kernel numbers
    return _grid(m, caption, bar, "kernel", "one-kernel")


def media_url(png: bytes, key: str) -> str:
    """The PNG's /media/ URL, registered for this session (held while its last run used it, like st.image's)."""
    if not runtime.exists():  # bare mode: no server to fetch from
        return ""
    url = runtime.get_instance().media_file_mgr.add(png, "image/png", f"avz-grid.{key}")
    # The component sets the URL as it is, so it carries the server's path prefix itself (st.image's
    # frontend adds it): with server.baseUrlPath = "class", media lives under /class/media/.
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}{url}" if base and url.startswith("/") else url


def clickable(grid: TileGrid, key: str) -> int | None:
    """Mount a grid; the channel (or kernel) whose tile was clicked in the run the click started, else None."""
    result = _COMPONENT(data={**grid.data, "src": media_url(grid.png, key)}, key=key, on_tile_change=_no_op,
                        width="stretch")
    tile = getattr(result, "tile", None)
    return None if tile is None else int(tile)


def _no_op() -> None:
    """The component reports clicks as a trigger value; the page reads it from the result."""
