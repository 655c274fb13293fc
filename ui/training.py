"""Streamlit glue for the Training page, and the "open this checkpoint" override that
ui.state.context() reads. Runs are only ever the server's: the folder is $ALEXNET_RUNS (else
./runs) as whoever started the server chose it; a page never takes a path.
"""
from __future__ import annotations

import io
import math
import time
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from alexnet_viz.train.config import runs_root
from alexnet_viz.train.runs import (
    CLASSES,
    CONFIG,
    FILTERS,
    METRICS,
    Checked,
    RunInfo,
    filter_file,
    list_runs,
    small_json,
)

OVERRIDE_KEY = "weights_override"
LIVE_SECONDS = 120.0  # a run whose metrics changed this recently, without an "end" line, is running
MAX_PICTURE_BYTES = 8 << 20  # C1's filter picture is tens of kB
MAX_PICTURE_PIXELS = 4096 * 4096


def runs_folder() -> Path:
    return runs_root().expanduser().resolve()


def server_runs() -> list[RunInfo]:
    return list_runs(runs_folder())


def weights_override(variant: str) -> str | None:
    """The checkpoint this session opened, if it is still a run of the server's whose weights fit
    `variant`; None otherwise (the server's own weights then apply)."""
    chosen = st.session_state.get(OVERRIDE_KEY)
    if not chosen:
        return None
    for run in server_runs():
        if str(run.weights) == chosen and run.has_weights and variant in run.fits:
            return chosen
    return None


def open_checkpoint(run: RunInfo) -> None:
    st.session_state[OVERRIDE_KEY] = str(run.weights)


def close_checkpoint() -> None:
    st.session_state.pop(OVERRIDE_KEY, None)


def is_live(run: RunInfo, records: list[dict]) -> bool:
    """Still training: no "end" line yet and metrics written within LIVE_SECONDS."""
    if records and records[-1].get("kind") == "end":
        return False
    path = run.path / METRICS if (run.path / METRICS).is_file() else run.path / CONFIG  # before its first line
    try:
        return time.time() - path.stat().st_mtime < LIVE_SECONDS
    except OSError:  # removed since it was listed
        return False


def filter_picture(run: RunInfo, epoch: int) -> Checked[bytes | None]:
    """The PNG of C1 after `epoch`, read and checked before st.image gets it (a broken file took the page
    down); None and a note when it is not a picture this page can show."""
    return checked_picture(filter_file(run.path, epoch, ".png"))


def checked_picture(path: Path) -> Checked[bytes | None]:
    """A run folder's PNG read and checked (a regular file of at most MAX_PICTURE_BYTES, a PNG of a sensible
    size, intact), or None and a note: st.image gets nothing else."""
    from PIL import Image, UnidentifiedImageError

    try:
        if not path.is_file():
            raise ValueError("not a regular file")
        with open(path, "rb") as fh:
            data = fh.read(MAX_PICTURE_BYTES + 1)
        if len(data) > MAX_PICTURE_BYTES:
            raise ValueError(f"larger than {MAX_PICTURE_BYTES >> 20} MiB")
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_PICTURE_PIXELS:
                raise ValueError("not a PNG of a sensible size")
            image.verify()
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        return Checked(None, (f"{FILTERS}/{path.name}: not a picture that can be shown ({exc}).",))
    return Checked(data)


def skipped_notice(skipped: tuple[str, ...]) -> None:
    """Name, once, what a reader of the run folder skipped; the rest of the page is drawn as usual."""
    if skipped:
        lines = [line.replace("`", "'") for line in skipped]
        st.warning("Skipped, because it is malformed or incomplete (the rest is shown):\n\n"
                   + "\n".join(f"- `{line}`" for line in lines), icon=":material/warning:")


# One hue per panel, lighter for validation: green is C1's structure only.
LINE_COLOURS = {"train loss": "#1f77b4", "val loss": "#7fb3de", "train top-1": "#d62728", "val top-1": "#f08a8a",
                "val top-5": "#9467bd", "C1 structure": "#2ca02c", "lr": "#7f7f7f"}
PANELS = {"loss": "Loss (cross-entropy)", "accuracy": "Accuracy", "structure": "C1 filter structure (0: noise)",
          "lr": "Learning rate"}


def chance_loss(run: Path) -> float | None:
    """The loss of a network that guesses evenly: ln(number of classes), from the run's classes.json."""
    try:
        classes = small_json(run / CLASSES)  # bounded: a link to /dev/zero read until memory ran out
    except ValueError:
        return None
    return math.log(len(classes)) if isinstance(classes, list) and len(classes) > 1 else None


def curves_figure(records: list[dict], panels: tuple[str, ...] = ("loss", "accuracy", "structure", "lr"),
                  height: int = 780, chance: float | None = None) -> go.Figure:
    """Curves against epochs, train intervals as lines, validation as markers: one panel per name in `panels`
    (the structure panel only when the run recorded it); `chance` draws the even guess's loss."""
    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val" and "val_top1" in r]
    shown = [p for p in panels if p != "structure" or any("structure" in r for r in train)]
    row = {name: i + 1 for i, name in enumerate(shown)}
    fig = make_subplots(rows=len(shown), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[PANELS[p] for p in shown])
    x = [r["epoch"] for r in train]
    vx = [r["epoch"] for r in val]
    lines = {"loss": [("train loss", x, [r["loss"] for r in train], "lines"),
                      ("val loss", vx, [r["val_loss"] for r in val], "lines+markers")],
             "accuracy": [("train top-1", x, [r["acc"] for r in train], "lines"),
                          ("val top-1", vx, [r["val_top1"] for r in val], "lines+markers"),
                          ("val top-5", vx, [r["val_top5"] for r in val], "lines+markers")],
             "structure": [("C1 structure", [r["epoch"] for r in train if "structure" in r],
                            [r["structure"] for r in train if "structure" in r], "lines")],
             "lr": [("lr", x, [r["lr"] for r in train], "lines")]}
    for name in shown:
        for label, xs, ys, mode in lines[name]:
            if xs:
                fig.add_trace(go.Scatter(x=xs, y=ys, name=label, mode=mode, line={"color": LINE_COLOURS[label]},
                                         line_shape="hv" if name == "lr" else "linear"), row[name], 1)
    if chance is not None and "loss" in row:
        fig.add_hline(y=chance, line={"color": "grey", "dash": "dot"}, row=row["loss"], col=1,
                      annotation_text=f"chance: ln {round(math.exp(chance))} = {chance:.3f}",
                      annotation_position="bottom left")
    if "accuracy" in row:
        fig.update_yaxes(range=[0, 1], row=row["accuracy"], col=1)
    if "lr" in row:
        fig.update_yaxes(type="log", dtick=1, row=row["lr"], col=1)  # powers of ten only
    fig.update_xaxes(title_text="epoch", row=len(shown), col=1)
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      legend={"orientation": "h", "y": -0.12})
    return fig


def relu_tanh_figure(result: dict) -> go.Figure:
    """Training error per epoch, ReLU solid and tanh dashed, with the 25 % line: the paper's Figure 1."""
    fig = go.Figure()
    for curve in result["curves"]:
        errors = curve["train_error"]
        fig.add_trace(go.Scatter(x=list(range(1, len(errors) + 1)), y=errors, mode="lines+markers",
                                 name=f"{curve['activation']} (lr {curve['lr']:g})",
                                 line={"dash": "solid" if curve["activation"] == "relu" else "dash"}))
    fig.add_hline(y=result["target"], line={"color": "grey", "dash": "dot"}, annotation_text="25 % training error")
    fig.update_xaxes(dtick=1)  # whole epochs only
    fig.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="epochs",
                      yaxis_title="training error rate", yaxis_range=[0, max(0.8, *(max(c["train_error"])
                                                                                    for c in result["curves"]))],
                      legend={"orientation": "h", "y": -0.2})
    return fig
