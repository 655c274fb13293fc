"""The Training page: the server's runs, curves, C1 filters by epoch, opening a checkpoint, Figure 1.

AppTest runs of a page take several seconds each on this machine, so the module is marked slow.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from alexnet_viz.figures.mosaic import kernel_tiles
from alexnet_viz.train import runs
from tests.helpers import ROOT

pytestmark = pytest.mark.slow
PAGE = str(ROOT / "app_pages" / "training.py")


def make_run(root: Path, name: str, variant: str = "torchvision", fits: tuple[str, ...] = ("torchvision",),
             ended: bool = True) -> Path:
    run = root / name
    (run / runs.FILTERS).mkdir(parents=True)
    (run / runs.CONFIG).write_text(json.dumps({"variant": variant, "recipe": "demo"}))
    (run / runs.FITS).write_text(json.dumps(list(fits)))
    (run / runs.WEIGHTS).write_bytes(b"not read by the page")
    rng = np.random.default_rng(0)
    for epoch in (0, 1, 2):
        w = rng.normal(size=(8, 3, 11, 11)).astype(np.float32)
        np.save(runs.filter_file(run, epoch), w)
        runs.filter_file(run, epoch, ".png").write_bytes(kernel_tiles(w).png())
    for step in range(1, 7):
        runs.append_metric(run, {"kind": "train", "epoch": step / 3, "step": step, "loss": 2.3 - 0.1 * step,
                                 "acc": 0.1 + 0.05 * step, "lr": 0.01, "images_per_s": 50.0, "skipped": 0})
        if step % 3 == 0:
            runs.append_metric(run, {"kind": "val", "epoch": step // 3, "step": step, "lr": 0.01, "val_loss": 2.0,
                                     "val_top1": 0.3, "val_top5": 0.8, "val_images": 20})
    if ended:
        runs.append_metric(run, {"kind": "end", "stopped": "done", "epoch": 2, "step": 6})
    return run


@pytest.fixture
def runs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path))
    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    return tmp_path


def page(variant: str = "torchvision") -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["variant"] = variant
    return at.run()


def test_no_runs_says_how_to_start_one(runs_dir: Path) -> None:
    at = page()
    assert not at.exception
    assert any("train --demo" in i.value and str(runs_dir) in i.value for i in at.info)


def test_a_run_shows_curves_filters_and_opens_its_checkpoint(runs_dir: Path) -> None:
    run = make_run(runs_dir, "demo-run")
    at = page()
    assert not at.exception and not at.error
    assert at.selectbox(key="train_run").value == "demo-run"
    assert [m.value for m in at.metric][:3] == ["2.00", "1.700", "30.0%"]
    assert at.select_slider(key="train_filter_epoch").value == 2
    at.select_slider(key="train_filter_epoch").set_value(0).run()
    assert at.select_slider(key="train_filter_epoch").value == 0 and not at.exception
    at.button(key="train_open").click().run()
    assert at.session_state["weights_override"] == str((run / runs.WEIGHTS).resolve())
    assert any("last.pt" in s.value for s in at.success)
    at.button(key="train_close").click().run()
    assert "weights_override" not in at.session_state


def test_a_narrowed_or_other_variant_run_cannot_be_opened(runs_dir: Path) -> None:
    make_run(runs_dir, "narrow", fits=())
    at = page()
    assert not at.exception and not [b for b in at.button if b.key == "train_open"]
    assert any("narrowed" in c.value for c in at.caption)
    at = page("article")
    assert any("narrowed" in c.value for c in at.caption)


def _context_script() -> None:
    import streamlit as st

    from ui.state import context

    st.session_state["variant"] = st.session_state.get("want_variant", "torchvision")
    st.session_state["weights_override"] = st.session_state.get("planted")
    st.text(context().key.weights)


@pytest.mark.parametrize("planted,variant,used", [("run", "torchvision", True), ("run", "article", False),
                                                   ("/etc/passwd", "torchvision", False)])
def test_context_uses_only_a_server_run_checkpoint_that_fits(runs_dir: Path, planted: str, variant: str,
                                                            used: bool) -> None:
    run = make_run(runs_dir, "r1")
    path = str((run / runs.WEIGHTS).resolve()) if planted == "run" else planted
    at = AppTest.from_function(_context_script, default_timeout=60)
    at.session_state["planted"] = path
    at.session_state["want_variant"] = variant
    at.run()
    assert not at.exception
    assert at.text[0].value == (path if used else "random")


def test_figure_one_is_shown_beside_the_paper_claim(runs_dir: Path) -> None:
    (runs_dir / runs.RESULT_FILE).write_text(json.dumps({
        "dataset": "demo", "note": "the demo dataset at 32 px, not CIFAR-10", "ratio": 3.0, "target": 0.25,
        "claim": "six times faster", "seconds": 1.0,
        "curves": [{"activation": "relu", "lr": 0.01, "train_error": [0.5, 0.2], "epochs_to_target": 2},
                   {"activation": "tanh", "lr": 0.01, "train_error": [0.7, 0.5, 0.4, 0.3, 0.27, 0.2],
                    "epochs_to_target": 6}]}))
    at = page()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "3.0×" in text and "about 6×" in text and "not CIFAR-10" in text


def test_an_opened_checkpoint_drives_the_filters_page(runs_dir: Path) -> None:
    """End to end: a real (tiny) torchvision run, opened on the Training page, is what Filters shows."""
    from alexnet_viz.train import demo
    from alexnet_viz.train.config import resolve
    from alexnet_viz.train.loop import train

    data = demo.make_dataset(runs_dir / "data", per_class=1, val_per_class=1)
    train(resolve("torchvision", data=str(data), run_dir=str(runs_dir / "tv"), input_size=64, resize=72,
                  batch_size=8, epochs=1, workers=0, ten_crop=False, progress=False))
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    app.query_params["variant"] = "torchvision"
    app.run()
    app.switch_page("app_pages/training.py").run()
    app.button(key="train_open").click().run()
    assert any("tv/last.pt" in s.value for s in app.success)
    app.switch_page("app_pages/filters.py").run()
    assert not app.exception and not app.error
    assert any("last.pt" in c.value and "local file" in c.value for c in app.caption)


def test_filters_caption_does_not_promise_what_a_short_run_has_not_learned(runs_dir: Path) -> None:
    make_run(runs_dir, "demo-run")
    at = page()
    captions = [c.value for c in at.caption]
    assert any("C1 after epoch 2" in c and "still noise" in c for c in captions), captions


def test_figure_one_counts_whole_epochs() -> None:
    from ui.training import relu_tanh_figure

    fig = relu_tanh_figure({"target": 0.25, "curves": [{"activation": "relu", "lr": 0.01, "train_error": [0.5, 0.2]},
                                                        {"activation": "tanh", "lr": 0.01, "train_error": [0.7, 0.4]}]})
    assert fig.layout.xaxis.dtick == 1


def _append_line(run: Path, line: bytes) -> None:
    with open(run / runs.METRICS, "ab") as fh:
        fh.write(line + b"\n")


# Each breaks one file of the newest run (selected by default) or of the folder, as issue 24 found them.
BREAKAGES = {
    "config-not-an-object": (lambda run: (run / runs.CONFIG).write_text("[1, 2]"), runs.CONFIG),
    "config-not-utf8": (lambda run: (run / runs.CONFIG).write_bytes(b'{"variant": "\xff"}'), "not UTF-8"),
    "fits-a-number": (lambda run: (run / runs.FITS).write_text("5"), runs.FITS),
    "metrics-line-a-number": (lambda run: _append_line(run, b"42"), "line 10"),
    "metrics-line-not-utf8": (lambda run: _append_line(run, b"\xff\xfe"), "line 10"),
    "metrics-line-without-epoch": (lambda run: _append_line(run, json.dumps(
        {"kind": "train", "step": 9, "loss": 1.0, "acc": 0.5, "lr": 0.01, "images_per_s": 5.0}).encode()), "epoch"),
    "metrics-line-string-loss": (lambda run: _append_line(run, json.dumps(
        {"kind": "train", "epoch": 3, "step": 9, "loss": "abc", "acc": 0.5, "lr": 0.01,
         "images_per_s": 5.0}).encode()), "loss"),
    "stray-filter-file": (lambda run: (run / runs.FILTERS / "epoch-abc.npy").write_bytes(b"x"), "epoch-abc.npy"),
    "killed-between-npy-and-png": (lambda run: runs.filter_file(run, 3).write_bytes(b"x"), "epoch-003"),
    "broken-figure-one": (lambda run: (run.parent / runs.RESULT_FILE).write_text('{"curves": 3}'),
                          runs.RESULT_FILE),
    "broken-filter-picture": (lambda run: runs.filter_file(run, 2, ".png").write_bytes(b"\x89PNG\r\n\x1a\n broken"),
                              "epoch-002.png"),
}


@pytest.mark.parametrize("case", list(BREAKAGES))
def test_one_malformed_file_is_named_once_and_the_rest_shown(runs_dir: Path, case: str) -> None:
    import os
    import time

    older = make_run(runs_dir, "older-run")
    os.utime(older, (time.time() - 60, time.time() - 60))
    newest = make_run(runs_dir, "newest-run")
    breaks, named = BREAKAGES[case]
    breaks(newest)
    at = page()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning if named in w.value]
    assert len(warnings) == 1, [w.value for w in at.warning]
    assert at.selectbox(key="train_run").value in ("newest-run", "older-run")
    assert [m.value for m in at.metric][:3] == ["2.00", "1.700", "30.0%"]  # the good lines are still plotted
    assert at.select_slider(key="train_filter_epoch").value == 2  # the whole epochs are still shown


def test_opening_a_checkpoint_that_claims_terabytes_is_an_error_on_the_page(runs_dir: Path) -> None:
    """Issue 24: a (2^20)^2 zero-strided tensor in last.pt made the server try a 4 TiB allocation."""
    import torch

    run = make_run(runs_dir, "forged")
    torch.save({"features.0.weight": torch.zeros(1).expand(2**20, 2**20)}, run / runs.WEIGHTS)
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    app.query_params["variant"] = "torchvision"
    app.run()
    app.switch_page("app_pages/training.py").run()
    app.button(key="train_open").click().run()
    app.switch_page("app_pages/filters.py").run()
    assert not app.exception, app.exception
    assert any("refused before any of its values were read" in e.value for e in app.error), [e.value for e in
                                                                                            app.error]
# --- watch it learn: Start, a live run, Stop, a stale lock (issue 21) ---------------------------------

def _lock_for(root: Path, pid: int, run: Path) -> None:
    import os
    import time

    from alexnet_viz.train import manager

    (root / manager.LOCK).write_text(json.dumps({
        "pid": pid, "run_dir": str(run.resolve()), "started": time.time(), "server_pid": os.getpid(),
        "host": os.uname().nodename, "epochs": 4, "stopping": False}))


def test_start_is_offered_and_says_why(runs_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALEXNET_TRAINING_FROM_PAGE", raising=False)
    at = page()
    assert not at.button(key="live_start").disabled
    assert any("Visitors may start runs" in c.value and "not set" in c.value for c in at.caption)
    monkeypatch.setenv("ALEXNET_TRAINING_FROM_PAGE", "0")
    at = page()
    assert at.button(key="live_start").disabled and not list(runs_dir.iterdir())
    assert any("is off" in c.value and "alexnet-viz serve" in c.value for c in at.caption)


def test_a_learner_on_a_server_without_start_is_told_what_to_do(runs_dir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20: with Start off, the reason spoke to whoever runs the server; the learner gets their own sentence."""
    monkeypatch.setenv("ALEXNET_TRAINING_FROM_PAGE", "0")
    at = page()
    told = " ".join(i.value for i in at.info)
    assert "What you can do here" in told and "`streamlit run streamlit_app.py`" in told
    monkeypatch.delenv("ALEXNET_TRAINING_FROM_PAGE")
    assert "What you can do here" not in " ".join(i.value for i in page().info)


def test_a_live_run_shows_progress_filters_curves_and_stops(runs_dir: Path) -> None:
    import subprocess
    import sys
    import time

    from alexnet_viz.train import manager

    run = make_run(runs_dir, "page-demo-live", ended=False)
    (run / runs.CLASSES).write_text(json.dumps([f"c{i}" for i in range(12)]))
    runs.atomic_write(run / runs.FILTERS / runs.LATEST_PNG, runs.filter_file(run, 2, ".png").read_bytes())
    runs.atomic_write(run / runs.FILTERS / runs.LATEST_JSON, b'{"step": 6, "epoch": 2.0, "structure": 0.31}')
    # Like the real trainer, it outlives the SIGINT for a while (saving its checkpoint): it notes the signal.
    noted = runs_dir / "sigint"
    trainer = subprocess.Popen([sys.executable, "-c", "import pathlib, signal, sys, time; signal.signal("
                                "signal.SIGINT, lambda *_: pathlib.Path(sys.argv[2]).touch()); time.sleep(120)",
                                str(run.resolve()), str(noted)])
    try:
        _lock_for(runs_dir, trainer.pid, run)
        at = page()
        assert not at.exception and not [b for b in at.button if b.key == "live_start"]
        assert "epoch 2.00 of 4" in at.get("progress")[0].proto.text
        assert any("step 6" in c and "structure 0.310" in c for img in at.image for c in map(str, img.captions))
        assert any(c.value.startswith("Step 6: loss 1.700 (guessing evenly gives 2.485)") for c in at.caption)
        at.button(key="live_stop").click().run()
        deadline = time.monotonic() + 60
        while not noted.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert noted.exists()  # SIGINT reached the trainer
        assert json.loads((runs_dir / manager.LOCK).read_text())["stopping"] is True
    finally:
        trainer.kill()
        trainer.wait()


def test_a_stale_lock_is_cleared_and_said(runs_dir: Path) -> None:
    import subprocess
    import sys

    from alexnet_viz.train import manager

    run = make_run(runs_dir, "page-demo-crashed", ended=False)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _lock_for(runs_dir, gone.pid, run)
    at = page()
    assert any("page-demo-crashed" in w.value and "ended without finishing" in w.value for w in at.warning)
    assert not (runs_dir / manager.LOCK).exists() and not at.button(key="live_start").disabled


def test_classes_json_is_read_bounded_and_pictures_are_checked(tmp_path: Path) -> None:
    """Re-attack of issue 24, point 4: chance_loss read classes.json whole (a link to /dev/zero read until memory
    ran out; a FIFO waited for good); the live view handed latest.png to st.image unchecked."""
    from ui.training import chance_loss, checked_picture

    (tmp_path / runs.CLASSES).write_text(json.dumps(["c" * 1000] * 2000))  # 2 MB: no run of ours writes that
    assert chance_loss(tmp_path) is None
    (tmp_path / runs.CLASSES).write_text(json.dumps(["a", "b"]))
    assert chance_loss(tmp_path) == pytest.approx(0.6931, abs=1e-4)
    (tmp_path / "latest.png").write_bytes(b"not a picture")
    shown = checked_picture(tmp_path / "latest.png")
    assert shown.value is None and "latest.png: not a picture that can be shown" in shown.skipped[0]
