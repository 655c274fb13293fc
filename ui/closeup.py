"""A channel's close-up: one map as a pixelated picture, the value under the pointer, a click picks a unit.

It replaces a plotly heatmap on the feature-map page, where the two close-ups (after and before
the ReLU) cost the browser ~200 ms of plotly layout on every new photo, ahead of the channel grid
being drawn (measured with a CDP CPU profile of three warm uploads: 607 ms of 3.4 s in plotly).
Here the browser paints one tiny indexed PNG scaled up by CSS, and the exact float32 values come
with the component's data as base64 (C1: 16 kB a close-up, less than plotly's copy of the same
numbers) so the pointer reads them without a round trip. A click (or a tap on a phone)
reports the unit as a trigger value; the page turns it into the unit whose receptive field it shows.
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.figures import mosaic
from ui import analysis, grids

_CSS = """
.avz-map { max-width: 100%; margin: 0; }
.avz-map .title { font-size: 0.9rem; font-weight: 600; margin-bottom: 0.25rem; }
.avz-map .frame { position: relative; width: 100%; max-width: 440px; }
.avz-map img { display: block; width: 100%; height: auto; image-rendering: pixelated; cursor: crosshair; }
.avz-map .mark { position: absolute; box-sizing: border-box; border: 2px solid #ffdd00; pointer-events: none;
                 box-shadow: 0 0 0 1px #000, inset 0 0 0 1px #000; }  /* black rings: visible on yellow too */
.avz-map .readout { font-size: 0.85rem; font-variant-numeric: tabular-nums; min-height: 1.3em; margin-top: 0.2rem; }
"""

# Called on every render; keeps one <figure> per mount and decodes the values only when they change.
_JS = """
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  let fig = parentElement.querySelector('figure.avz-map');
  if (!fig) {
    fig = document.createElement('figure');
    fig.className = 'avz-map';
    fig.innerHTML = '<div class="title"></div><div class="frame"><img alt=""><div class="mark"></div></div>' +
                    '<div class="readout"></div><div class="avz-bar"></div>';
    parentElement.appendChild(fig);
  }
  const g = data;
  const img = fig.querySelector('img'), mark = fig.querySelector('.mark'), out = fig.querySelector('.readout');
  if (img.getAttribute('src') !== g.src) { img.setAttribute('src', g.src); }
  img.alt = g.title;
  fig.querySelector('.title').textContent = g.title;
  fig.querySelector('.avz-bar').innerHTML = g.bar;
  if (fig._encoded !== g.values) {
    const bin = atob(g.values), bytes = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) { bytes[k] = bin.charCodeAt(k); }
    fig._values = new Float32Array(bytes.buffer);
    fig._encoded = g.values;
  }
  const place = (i, j) => {
    mark.style.left = (100 * j / g.w) + '%'; mark.style.top = (100 * i / g.h) + '%';
    mark.style.width = (100 / g.w) + '%'; mark.style.height = (100 / g.h) + '%';
  };
  const fmt = (v) => Number(v.toPrecision(4)).toString();
  const say = (i, j, what) => { out.textContent = `${what} (${i}, ${j}): ${fmt(fig._values[i * g.w + j])}`; };
  place(g.mark[0], g.mark[1]);
  say(g.mark[0], g.mark[1], 'unit');
  const unitAt = (ev) => {
    const r = img.getBoundingClientRect();
    const j = Math.floor((ev.clientX - r.left) * g.w / r.width), i = Math.floor((ev.clientY - r.top) * g.h / r.height);
    return i >= 0 && i < g.h && j >= 0 && j < g.w ? [i, j] : null;
  };
  img.onmousemove = (ev) => {
    const u = unitAt(ev);
    if (u === null) { return; }
    say(u[0], u[1], 'row, col');
    img.title = `row ${u[0]}, col ${u[1]}: ${fmt(fig._values[u[0] * g.w + u[1]])}; click to pick this unit`;
  };
  img.onmouseleave = () => say(g.mark[0], g.mark[1], 'unit');
  img.onclick = (ev) => {
    const u = unitAt(ev);
    if (u === null) { return; }
    place(u[0], u[1]);
    say(u[0], u[1], 'unit');
    setTriggerValue('unit', u);
  };
}
"""

_COMPONENT = st.components.v2.component("alexnet_viz.value_map", css=_CSS + grids.BAR_CSS, js=_JS,
                                        isolate_styles=False)


@dataclass(frozen=True)
class ValueMap:
    """What the browser needs for one close-up: the picture, the exact values, the colour bar."""

    png: bytes
    values: str  # base64 of the map's float32 values, little-endian, row-major
    height: int
    width: int
    bar: grids.Bar


def value_map(values: np.ndarray, signed: bool) -> ValueMap:
    """Colour one (H, W) map as the app draws it: signed maps on the sign colours, white at zero."""
    z = np.asarray(values, dtype=np.float32)
    if z.ndim != 2:
        raise ValueError(f"a channel map must be 2-D, not {z.shape}")
    bar = grids.value_bar(z, signed, "value, this map's lowest to highest")
    picture = mosaic.feature_grid(z[None], mode="map", cmap=bar.cmap, symmetric=signed, scale=1, gap=0)
    return ValueMap(png=picture.png(), values=base64.b64encode(z.astype("<f4").tobytes()).decode("ascii"),
                    height=z.shape[0], width=z.shape[1], bar=bar)


def show(vm: ValueMap, title: str, mark: tuple[int, int], key: str, on_pick: Callable[[], None]) -> None:
    """Mount a close-up with the unit `mark` outlined; `on_pick` runs (before the rerun) when a unit is clicked,
    and reads the clicked (row, col) as `st.session_state[key].unit`."""
    _COMPONENT(data={"src": grids.media_url(vm.png, key), "values": vm.values, "h": vm.height, "w": vm.width,
                     "title": title, "mark": [int(mark[0]), int(mark[1])], "bar": grids.bar_html(vm.bar)},
               key=key, on_unit_change=on_pick, width="stretch")


@st.cache_data(hash_funcs=analysis.HASH, max_entries=256, max_size="16MiB", show_spinner=False)
def channel_map(ref: analysis.ImageRef, key: ModelKey, name: str, channel: int, pre: bool) -> ValueMap:
    """One channel of a layer for one image, after (or before) the ReLU, ready to mount."""
    res = analysis.layer(ref, key, name)
    maps = res.pre if pre else res.post
    if maps is None:
        raise ValueError(f"{name} has no output before a ReLU")
    return value_map(maps[channel], signed=pre)
