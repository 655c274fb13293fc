"""Training: start a run and watch it learn, the server's runs, their curves (live while a run goes), C1's
filters epoch by epoch, opening a checkpoint in the visualiser, and the paper's ReLU-vs-tanh figure reproduced."""
from __future__ import annotations

import streamlit as st

from alexnet_viz.train.runs import RESULT_FILE, check_filters, check_metrics, check_result, check_runs
from ui import live
from ui.state import context
from ui.training import (
    OVERRIDE_KEY,
    chance_loss,
    close_checkpoint,
    curves_figure,
    filter_picture,
    is_live,
    open_checkpoint,
    relu_tanh_figure,
    runs_folder,
    skipped_notice,
)

st.title("Training")
st.markdown("A network starts as random numbers and learns from examples: each step shows it a batch of "
            "pictures, measures how wrong its answers are (the **loss**) and nudges every weight to be a little "
            "less wrong. Watch that happen, then compare any page's view before and after training.")
st.subheader("Watch it learn")
watched = live.section()

st.subheader("Runs")
st.markdown("Train from a terminal too: `python -m alexnet_viz train --demo` trains on a generated dataset in "
            "minutes on a CPU; `--data DIR` on your own ImageFolder with the paper's recipe; `torchrun` on many "
            "GPUs or machines (docs/TRAINING.md). The runs below are the server's, in the folder it was started "
            "with (`ALEXNET_RUNS`).")
folder = runs_folder()
listed = check_runs(folder)
runs = listed.value
ctx = context()
skipped_notice(listed.skipped)

if not runs and watched is not None:
    st.caption("The run above is the first; it is listed here once the page is reloaded or the run ends.")
elif not runs:
    st.info(f"No training runs in `{folder}` yet. Start one beside the server: "
            f"`ALEXNET_RUNS={folder} python -m alexnet_viz train --demo`.", icon=":material/info:")
else:
    names = [r.name for r in runs]
    run = runs[names.index(st.selectbox("Run", names, key="train_run", help=f"Run directories in {folder}"))]
    records = check_metrics(run.path).value
    going = is_live(run, records) and run.path != watched  # the run started here is drawn above

    @st.fragment(run_every=5.0 if going else None)
    def curves() -> None:
        """Redrawn alone every few seconds while the run is going."""
        checked = check_metrics(run.path)
        skipped_notice(checked.skipped)
        now = checked.value
        train = [r for r in now if r["kind"] == "train"]
        if not train:
            st.caption("No metrics yet: the first line comes after the first logging interval.")
            return
        last = train[-1]
        cols = st.columns(4)
        cols[0].metric("Epoch", f"{last['epoch']:.2f}")
        cols[1].metric("Train loss", f"{last['loss']:.3f}")
        val = [r for r in now if r.get("kind") == "val" and "val_top1" in r]
        cols[2].metric("Val top-1", f"{100 * val[-1]['val_top1']:.1f}%" if val else "–")
        cols[3].metric("Images/s", f"{last['images_per_s']:.0f}")
        st.plotly_chart(curves_figure(now, chance=chance_loss(run.path)), key="train_curves",
                        config={"displayModeBar": False})
        st.caption(("Running: refreshed every 5 s. " if going else "")
                   + f"{len(train)} logged intervals; lr, loss and accuracy from metrics.jsonl of {run.name}.")

    curves()
    if run.path != watched and not going and not any(r.get("kind") == "end" for r in records):
        live.unfinished(run.path)

    st.subheader("C1's filters, epoch by epoch")
    saved = check_filters(run.path)
    skipped_notice(saved.skipped)
    epochs = saved.value
    if epochs:
        epoch = st.select_slider("After epoch", epochs, value=epochs[-1], key="train_filter_epoch",
                                 help="Epoch 0 is the initialisation.")
        picture = filter_picture(run, epoch)
        skipped_notice(picture.skipped)
        if picture.value is not None:
            st.image(picture.value, width="content")  # its own size: a caption would widen it
            st.caption(f"C1 after epoch {epoch} of {run.name}: each kernel's RGB weights stretched to full contrast. "
                       "Trained long enough, C1 grows oriented stripes and colour blobs (the paper's Figure 3); early "
                       "on, or after a short demo run, many kernels are still noise.")
    else:
        st.caption("No filters saved yet.")

    st.subheader("Open this checkpoint")
    opened = st.session_state.get(OVERRIDE_KEY)
    if not run.has_weights:
        st.caption("This run has not saved a checkpoint yet.")
    elif run.variant not in run.fits:
        st.caption(f"This run's network is not a full {run.variant} network (its classifier was narrowed, as "
                   "the demo's is), so its checkpoint cannot replace the visualiser's weights. Its convolutions "
                   f"can be compared with the untrained network's: choose the {run.variant} variant and this run "
                   "under *Compare with* on the Feature maps, Filters, Prediction and Inside one unit pages.")
    elif ctx.variant != run.variant:
        st.caption(f"This run trained the {run.variant} variant; choose it in the sidebar to open its checkpoint.")
    elif opened == str(run.weights):
        st.success(f"The visualiser's pages use {run.name}/last.pt in this session.", icon=":material/check:")
        st.button("Back to the server's weights", on_click=close_checkpoint, key="train_close")
    else:
        st.button(f"Open {run.name}/last.pt in the visualiser", on_click=open_checkpoint, args=(run,),
                  key="train_open", help="Only this session: feature maps, filters and predictions use it.")

st.subheader("ReLU against tanh: the paper's Figure 1")
st.markdown("The paper (Sec 3.1, Figure 1): a four-layer CNN with ReLUs reaches 25 % training error on CIFAR-10 "
            "**about six times faster** than the same network with tanh units. Reproduce it with "
            "`python -m alexnet_viz experiment relu-vs-tanh`.")
figure_one = check_result(folder / RESULT_FILE)
skipped_notice(figure_one.skipped)
result = figure_one.value
if result is None:
    st.caption(f"No result in `{folder}` yet.")
else:
    st.plotly_chart(relu_tanh_figure(result), key="train_relu_tanh", config={"displayModeBar": False})
    ratio = f"**{result['ratio']:.1f}×** as many epochs for tanh" if result["ratio"] else \
        "one network did not reach 25 % within the epochs run"
    st.markdown(f"Measured here: {ratio}; the paper: about 6×. Data: {result['note']}.")
