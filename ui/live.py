"""The Training page's live run: Start (when the server allows it), watch (every session), Stop.

The run is a process of the server (alexnet_viz.train.manager), never of a script run: Start returns
at once, and the watching fragment re-reads the run directory every few seconds, so no script run
ever waits for training. Visiting the page starts nothing.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import manager
from alexnet_viz.train.runs import Checked, filter_file, latest_filters, read_metrics
from ui.training import chance_loss, checked_picture, curves_figure, runs_folder

REFRESH_S = 2.0
EPOCHS_KEY, ERROR_KEY = "live_epochs", "live_error"


def section() -> Path | None:
    """Start, or watch the run going on; the live run's directory (None when none runs)."""
    root = runs_folder()
    found = manager.check(root)
    if found.cleared is not None:
        st.warning(f"The run **{found.cleared.path.name}** ended without finishing: its trainer is gone (the "
                   "server restarted, or the trainer crashed), so its lock was cleared. What it saved is under "
                   "*Runs* below.", icon=":material/warning:")
    if found.active is not None:
        watch(found.active.run_dir)
        return found.active.path
    starter(root)
    return None


def _fmt_seconds(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def starter(root: Path) -> None:
    """The Start button, or why there is none, and the last start's error."""
    allowed = manager.permission()
    st.markdown("Press **Start** and the server trains a small AlexNet (torchvision's convolutions, a narrow "
                "classifier) on a generated set of oriented edges in three colour pairs, while this page shows "
                "the loss falling and C1's filters changing from noise. One run at a time per server: every "
                "visitor sees it, and anyone may stop it.")
    left, right = st.columns([1, 2], vertical_alignment="bottom")
    left.number_input("Epochs", min_value=1, max_value=20, value=5, step=1, key=EPOCHS_KEY,
                      help="Passes over the 1,920 training pictures; each takes a minute or more on a small CPU.")
    right.button("Start training", type="primary", key="live_start", disabled=not allowed.allowed,
                 on_click=_start, args=(root,), icon=":material/play_arrow:")
    st.caption(("Visitors may start runs here: " if allowed.allowed else "Starting runs from this page is off: ")
               + allowed.why)
    if not allowed.allowed:  # the reason speaks to whoever runs the server; this, to the learner
        st.info("What you can do here: open a finished run under *Runs* below (its loss curves and C1's filters, "
                "epoch by epoch), if this server has one, and read the ReLU against tanh experiment at the end. "
                "To press Start yourself, run the app on your own computer (`streamlit run streamlit_app.py`): "
                "there it is on.", icon=":material/info:")
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/error:")


def _start(root: Path) -> None:
    try:
        manager.start(root, int(st.session_state.get(EPOCHS_KEY, 5)))
    except AlexVizError as exc:
        st.session_state[ERROR_KEY] = str(exc)


def _stop(root: Path) -> None:
    try:
        manager.stop(root)
    except AlexVizError as exc:
        st.session_state[ERROR_KEY] = str(exc)


@st.fragment(run_every=REFRESH_S)
def watch(run_dir: str) -> None:
    """Redrawn alone every REFRESH_S seconds: progress, C1 now, the curves; the whole page once it ends."""
    root = runs_folder()
    active = manager.check(root).active
    if active is None or active.run_dir != run_dir:
        st.rerun()  # the run ended (or another began): the page redraws around it
        return
    records = read_metrics(active.path)
    now = manager.progress(records, active.epochs)
    left = f", about {_fmt_seconds(now.seconds_left)} left" if now.seconds_left is not None else ""
    st.progress(now.fraction, text=f"**{active.path.name}**: epoch {now.epoch:.2f} of {active.epochs}{left}. "
                                   + ("" if records else manager.phase(active)))
    picture, curves = st.columns([1, 1.3])
    with picture:
        _filters_now(active)
    with curves:
        train = [r for r in records if r.get("kind") == "train"]
        if train:
            chance = chance_loss(active.path)
            st.plotly_chart(curves_figure(records, ("loss", "accuracy", "structure"), height=520, chance=chance),
                            key="live_curves", config={"displayModeBar": False})
            last = train[-1]
            even = f" (guessing evenly gives {chance:.3f})" if chance is not None else ""
            st.caption(f"Step {last['step']}: loss {last['loss']:.3f}{even}, training top-1 {last['acc']:.0%}, "
                       f"{last['images_per_s']:.0f} images/s. Redrawn every {REFRESH_S:.0f} s.")
        else:
            st.caption(manager.phase(active))
    st.button("Stopping…" if active.stopping else "Stop", key="live_stop", disabled=active.stopping,
              on_click=_stop, args=(root,), icon=":material/stop:",
              help="The trainer finishes its step, saves a checkpoint (last.pt) and its last loss, and exits.")
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error, icon=":material/error:")
    with st.expander("What the trainer prints"):
        st.code(manager.run_log_tail(active.path) or "(nothing yet)", language=None)


def _filters_now(active: manager.Active) -> None:
    """C1's newest snapshot, or its initialisation until the first one."""
    latest = latest_filters(active.path)
    picture = checked_picture(latest[0]) if latest is not None else Checked(None)
    if latest is not None and picture.value is not None:
        about = latest[1]
        st.image(picture.value, width="stretch",
                 caption=f"C1's filters at step {about.get('step', 0)} (redrawn as they change): "
                         f"structure {about.get('structure', 0.0):.3f}, where 0 is noise and 1 all smooth.")
        return
    first = filter_file(active.path, 0, ".png")
    start = checked_picture(first) if first.is_file() else Checked(None)
    if start.value is not None:
        st.image(start.value, width="stretch", caption="C1's filters at the start: random numbers.")
    else:
        st.caption("C1's filters appear here once the network is built.")


def unfinished(run: Path) -> None:
    """A run without an "end" line that nobody is running: say so, with the trainer's last words if any."""
    st.warning("This run stopped without finishing (its trainer was killed, crashed, or runs elsewhere); "
               "its last checkpoint, if any, is kept.", icon=":material/warning:")
    words = manager.run_log_tail(run)
    if words:
        st.code(words, language=None)
