"""Feature maps: every channel of a layer for your image, one channel up close, and where it looks."""
from __future__ import annotations

import functools

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from alexnet_viz.analysis.units import peak
from alexnet_viz.core.bookkeeping import ledger, receptive_field
from alexnet_viz.figures import colours, mosaic
from ui import analysis, before_after, closeup, grids
from ui.image_input import or_stop
from ui.page import image_page
from ui.urls import unit_page_link, url_choice, url_write

NORMALISE = {"map": "each map on its own range", "layer": "one range for the layer"}
SORTS = {"none": "channel number", "mean": "mean activation", "max": "max activation"}

st.title("Feature maps")
st.markdown("What each layer makes of one picture: every channel at once, then one channel up close.")

page, ref = image_page(answer_first=True)
ctx = page.ctx
book = ledger(ctx.spec)
spatial = [r.name for r in book.rows if r.kind != "fc"]


def stage(name: str, pre: bool) -> str:
    """Which tensor of the layer is shown, in words."""
    layer = ctx.spec.layer(name)
    if pre:
        return "before the ReLU"
    if layer.kind != "conv":
        return "the pooled output"
    return "after the ReLU" + (" and the LRN" if layer.lrn is not None else "")


def _pick_unit(widget: str, rows: str, cols: str) -> None:
    """A click on a close-up (before the rerun): that unit's row and column go into the unit inputs."""
    unit = st.session_state.get(widget, {}).get("unit")
    if isinstance(unit, list) and len(unit) == 2 and all(isinstance(v, int) and v >= 0 for v in unit):
        st.session_state[rows], st.session_state[cols] = unit  # past the edge: the input resets it


@st.fragment
def channel_view(name: str, channels: int) -> None:
    """One channel: zoomed with its values under the pointer, before/after ReLU, on the input, and the receptive
    field of a unit (picked by a click on a close-up or by row and column)."""
    row = book.row(name)
    height, width = row.out_shape[1], row.out_shape[2]
    res = or_stop(analysis.layer, ref, ctx.key, name)
    url_choice("fm_channel", "channel", list(range(channels)), 0, parse=int)
    pick, unit_row, unit_col = st.columns([2, 1, 1])
    channel = pick.number_input(f"Channel (0–{channels - 1})", min_value=0, max_value=channels - 1, step=1,
                                key="fm_channel")
    url_write("channel", channel)
    unit_page_link(st, ctx.variant, name, channel, f"Open the unit page for {name} channel {channel}",
                   "Its feature visualisation, top dataset patches, kernel, and what the prediction loses "
                   "without it.")
    post = res.post[channel]
    peak_i, peak_j = peak(post)
    unit = f"{ref.digest[:12]}_{name}_{channel}"  # a new image, layer or channel starts at its strongest unit
    rows, cols = f"fm_row_{unit}", f"fm_col_{unit}"
    st.session_state.setdefault(rows, int(peak_i))
    st.session_state.setdefault(cols, int(peak_j))
    i = int(unit_row.number_input("Unit row", 0, height - 1, key=rows, help="Default: this channel's strongest unit."))
    j = int(unit_col.number_input("Unit column", 0, width - 1, key=cols,
                                  help="Default: this channel's strongest unit. Or click a unit in a close-up."))
    if not post.any():
        st.info(f"Channel {channel} of {name} is silent for this image: every unit is 0.")
    elif (share := float(mosaic.range_shares(res.post)[channel])) < mosaic.FLAT_SHARE:
        st.info(f"Channel {channel} of {name} is nearly flat: from {float(post.min()):.3g} to {float(post.max()):.3g}, "
                f"{share:.1%} of the layer's range; the close-ups stretch that small range over all their colours.")
    after, before = st.columns(2)

    def zoom(where: DeltaGenerator, pre: bool, widget: str) -> None:
        with where:
            closeup.show(closeup.channel_map(ref, ctx.key, name, channel, pre),
                         f"{name} channel {channel}, {stage(name, pre)}", (i, j), widget,
                         functools.partial(_pick_unit, widget, rows, cols))

    zoom(after, False, "fm_zoom_post")
    if res.pre is not None:
        pre = res.pre[channel]
        zoom(before, True, "fm_zoom_pre")
        before.caption(f"The ReLU zeroes the {float((pre <= 0).mean()):.0%} of this map's {pre.size} units that "
                       f"are negative or zero before it ({colours.SIGN_LEGEND}).")
    else:
        before.markdown(f"{name} is a pooling layer: no ReLU of its own, so there is no “before” to show. Each "
                        f"unit is the {'maximum' if row.kind == 'maxpool' else 'average'} of a "
                        f"{row.kernel}×{row.kernel} window of the layer below, every {row.stride} units.")
    on_input, field = st.columns(2)
    on_input.image(analysis.channel_overlay_jpeg(ref, ctx.key, name, channel),
                   caption=f"{name} channel {channel} over the image the network sees", width="stretch",
                   output_format="JPEG")
    with on_input:
        grids.colour_bar(grids.Bar(colours.HEAT, f"{float(post.min()):.3g}", f"{float(post.max()):.3g}",
                                   "this channel's value, stretched over its own range"))
    box = receptive_field(ctx.spec, name, i, j)
    share = box.visible_fraction
    inside = f"{share:.0%} of it inside the image" if share < 1 else "all of it inside the image"
    field.image(analysis.receptive_field_png(ref, ctx.spec, name, i, j), width="stretch", output_format="PNG",
                caption=f"Receptive field of unit ({i}, {j}), value {float(post[i, j]):.4g}: each of the "
                        f"{height}×{width} units of {name} sees a {row.rf}×{row.rf} window of the input ({inside} "
                        f"for this unit; the rest is padding), and neighbours are {row.jump} pixels apart.")
    before_after.section("maps", "fm_compare", ctx.spec, ref=ref, layer=name, channel=channel)


def flat_note(name: str, maps, mode: str) -> None:
    """Say how many maps are nearly flat (range under FLAT_SHARE of the layer's), and what each colour scale does
    to them: on its own range a flat map looks as patterned as any other."""
    flat = mosaic.nearly_flat(maps)
    if not flat:
        return
    lo, hi = float(maps.min()), float(maps.max())
    shares = mosaic.range_shares(maps)
    c = next((c for c in flat if shares[c] > 0), flat[0])  # an example that is not simply all zero
    example = (f"; channel {c} spans {float(maps[c].min()):.3g} to {float(maps[c].max()):.3g}, "
               f"{float(shares[c]):.1%} of that" if shares[c] > 0 else "")
    says = (f"{len(flat)} of {len(maps)} maps of {name} are nearly flat: each varies by less than "
            f"{mosaic.FLAT_SHARE:.0%} of the layer's range ({lo:.3g} to {hi:.3g}){example}.")
    if mode == "map":
        st.info(f"{says} Each tile is stretched over its own range, so their tiny differences look like strong "
                "patterns here; choose **one range for the layer** to see them as flat.", icon=":material/tune:")
    else:
        st.caption(f"{says} On one range for the layer they look flat, as they are.")


@st.fragment
def layer_view() -> None:
    """The layer picker and the all-channels grid; reruns alone when its widgets change."""
    url_choice("fm_layer", "layer", spatial, spatial[0])
    c1, c2, c3, c4 = st.columns([1, 1.4, 1.2, 1])
    name = c1.selectbox("Layer", spatial, key="fm_layer")
    url_write("layer", name)
    mode = c2.radio("Normalise", list(NORMALISE), format_func=NORMALISE.get, key="fm_mode", horizontal=True,
                    help="Each map on its own range: every map's pattern shows, but a nearly flat map's tiny "
                         "differences fill the whole colour scale too. One range for the layer: the same colour is "
                         "the same value in every tile, so strong maps stand out and flat ones look flat.")
    sort = c3.radio("Order by", list(SORTS), format_func=SORTS.get, key="fm_sort", horizontal=True)
    res = or_stop(analysis.layer, ref, ctx.key, name)
    wants_pre = c4.toggle("Before ReLU", key="fm_pre", disabled=res.pre is None,
                          help=f"Show the convolution's output before its ReLU ({colours.SIGN_LEGEND}).")
    pre = wants_pre and res.pre is not None
    row = book.row(name)
    channels, side = row.out_shape[0], row.out_shape[1]
    caption = (f"{name}: all {channels} channels of {side}×{side}, {stage(name, pre)}, ordered by {SORTS[sort]}. "
               "Click a tile for that channel's close-up.")
    grid = or_stop(grids.feature_grid, ref, ctx.key, name, pre, mode, sort, caption)
    clicked = grids.clickable(grid, key="fm_grid")
    if clicked is not None:  # the close-up below is drawn later in this run, so its widget can take the value
        st.session_state["fm_channel"] = clicked
    if sort != "none":
        st.caption(f"First tiles: channels {', '.join(map(str, grid.order[:8]))}, …")
    flat_note(name, res.pre if pre else res.post, mode)
    d1, d2, _ = st.columns([1, 1, 2])
    # Callables: the bytes leave the server only on a click (inline data is fetched by the browser up front).
    d1.download_button("Download the grid (PNG)", lambda: grid.png, file_name=f"{ctx.variant}_{name}_grid.png",
                       mime="image/png", on_click="ignore", key="fm_dl_png")
    d2.download_button(f"Download {name}'s activations (.npy)",
                       lambda: analysis.layer_npy(ref, ctx.key, name),
                       file_name=f"{ctx.variant}_{name}.npy", mime="application/octet-stream",
                       on_click="ignore", key="fm_dl_npy")
    page.notice()
    st.subheader("One channel", anchor="one-channel")
    channel_view(name, channels)
    st.subheader("Every channel in numbers")
    stats = res.stats
    st.dataframe({"channel": stats["channel"], "mean": stats["mean"], "max": stats["max"],
                  "zeros": stats["zeros"] * 100.0}, hide_index=True, height=300, width="stretch",
                 column_config={"mean": st.column_config.NumberColumn(format="%.4f"),
                                "max": st.column_config.NumberColumn(format="%.4f"),
                                "zeros": st.column_config.ProgressColumn("share of zeros", format="%.0f%%",
                                                                         min_value=0, max_value=100)})


layer_view()
