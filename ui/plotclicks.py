"""A click on a block of a plotly chart, reported by name: the overview's 3-D network and its phone strip.

Streamlit's `on_select` reports clicks on 2-D points only (its click handler is for sunbursts and
treemaps, and plotly.js selects nothing in a 3-D scene), so a click on a 3-D block reached no
Python. This light `st.components.v2` component, mounted next to the charts, listens to plotly's
own events on the charts inside the containers it is given and reports the clicked trace's (or
bar's) name as a one-run trigger value. plotly.js fires a 3-D click only when a frame is drawn while
the button is down, and a tap on a 2-D bar hovers nothing first, so a press released where it began
(a drag turns the scene) also counts: on the block last hovered, or on the bar under the finger.
"""
from __future__ import annotations

import streamlit as st

_JS = """
export default function(component) {
  const { data, setTriggerValue } = component;
  const send = (name) => {
    const layer = String(name || '').split(' ')[0];
    if (!data.names.includes(layer)) { return; }
    const now = Date.now();
    if (window.__avzLastClick && now - window.__avzLastClick < 400) { return; }  // one click, one report
    window.__avzLastClick = now;
    setTriggerValue('layer', layer);
  };
  const attach = () => {
    for (const key of data.containers) {
      const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
      if (!gd || !gd.on || gd.__avzClicks) { continue; }
      gd.__avzClicks = true;
      let hovered = null, down = null;
      const pointName = (ev) => ev && ev.points && ev.points.length
        ? (ev.points[0].customdata ?? ev.points[0].data.name) : null;
      gd.on('plotly_hover', (ev) => { hovered = pointName(ev); });
      gd.on('plotly_unhover', () => { hovered = null; });
      gd.on('plotly_click', (ev) => send(pointName(ev)));
      gd.addEventListener('pointerdown', (ev) => { down = [ev.clientX, ev.clientY]; }, true);
      const barAt = (ev) => {  // a tap hovers nothing: the bar under the finger, by its place in its trace
        for (const el of document.elementsFromPoint(ev.clientX, ev.clientY)) {
          const pt = el.closest('.point'), trace = pt && pt.closest('.trace');
          if (!trace || !gd.contains(pt)) { continue; }
          const i = [...trace.querySelectorAll('.point')].indexOf(pt);
          const t = [...gd.querySelectorAll('.trace')].filter(e => e.closest('.barlayer')).indexOf(trace);
          const d = gd.data[t];
          return d && d.customdata ? d.customdata[i] : null;
        }
        return null;
      };
      gd.addEventListener('pointerup', (ev) => {
        const still = down && Math.hypot(ev.clientX - down[0], ev.clientY - down[1]) < 5;
        if (still) { send(hovered || barAt(ev)); }
        down = null;
      }, true);
    }
  };
  attach();
  if (!window.__avzClickTimer) {  // charts mount after this component and are replaced on reruns
    window.__avzClickTimer = setInterval(() => window.__avzAttach && window.__avzAttach(), 500);
  }
  window.__avzAttach = attach;
}
"""

_COMPONENT = st.components.v2.component("alexnet_viz.plot_clicks", js=_JS, isolate_styles=False)


def clicked_layer(containers: list[str], names: list[str], key: str) -> str | None:
    """Listen to clicks on the charts inside the containers keyed `containers`; the layer clicked in the run
    the click started (a trace or bar named after one of `names`; "C3 window" and "C3 (GPU 1)" count as C3)."""
    result = _COMPONENT(data={"containers": containers, "names": names}, key=key, on_layer_change=_no_op)
    layer = getattr(result, "layer", None)
    return layer if layer in names else None


def _no_op() -> None:
    """The component reports a click as a trigger value; the page reads it from the result."""
