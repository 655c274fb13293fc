"""Run folders read defensively and written atomically (issue 24, point 4): a malformed line or file
is skipped and named once, the rest is read; a run killed between two files leaves no half epoch."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alexnet_viz.train import runs


def _good_run(root: Path, name: str = "good") -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / runs.CONFIG).write_text(json.dumps({"variant": "torchvision"}))
    (run / runs.FITS).write_text(json.dumps(["torchvision"]))
    runs.append_metric(run, {"kind": "train", "epoch": 0.5, "step": 1, "loss": 2.0, "acc": 0.1, "lr": 0.01,
                             "images_per_s": 9.0, "skipped": 0})
    runs.save_filters(run, 0, runs.npy_bytes(np.zeros((2, 3, 11, 11), np.float32)), b"\x89PNG")
    return run


@pytest.mark.parametrize("line,why", [(b"42", "a JSON int"), (b"\xff\xfe{}", "not UTF-8"), (b"{not json", "not JSON"),
                                      (b'{"kind": "train", "step": 2, "loss": 1, "acc": 0, "lr": 0.1, '
                                       b'"images_per_s": 1}', "epoch is missing"),
                                      (b'{"kind": "train", "epoch": 1, "step": 2, "loss": "abc", "acc": 0, '
                                       b'"lr": 0.1, "images_per_s": 1}', "loss is missing or not a number"),
                                      (b'{"kind": "val", "epoch": 1, "step": "2", "lr": 0.1}', "step"),
                                      (b"[" * 100_000, "not JSON")])
def test_a_bad_metrics_line_is_skipped_and_named(tmp_path: Path, line: bytes, why: str) -> None:
    run = _good_run(tmp_path)
    with open(run / runs.METRICS, "ab") as fh:
        fh.write(line + b"\n")
    runs.append_metric(run, {"kind": "end", "stopped": "done", "epoch": 1, "step": 2})
    checked = runs.check_metrics(run)
    assert [r["kind"] for r in checked.value] == ["train", "end"]
    assert len(checked.skipped) == 1 and "line 2" in checked.skipped[0] and why in checked.skipped[0]
    runs.truncate_metrics(run, 5)  # resuming reads the same way and keeps the good lines
    assert [r["kind"] for r in runs.read_metrics(run)] == ["train"]


def test_a_line_being_written_is_left_for_later_and_many_bad_lines_are_one_note(tmp_path: Path) -> None:
    run = _good_run(tmp_path)
    with open(run / runs.METRICS, "ab") as fh:
        fh.write(b"7\n" * 1000 + b'{"kind": "tr')
    checked = runs.check_metrics(run)
    assert len(checked.value) == 1 and len(checked.skipped) == 6 and "995 more" in checked.skipped[-1]


@pytest.mark.parametrize("config", [b"[1, 2]", b"\xff\xfe\x00", b"{", b'{"variant": 3}', b"[" * 50_000,
                                    b"{}" + b" " * runs.MAX_JSON_BYTES])
def test_a_run_whose_config_is_unreadable_is_named_and_the_others_listed(tmp_path: Path, config: bytes) -> None:
    _good_run(tmp_path)
    bad = _good_run(tmp_path, "bad")
    (bad / runs.CONFIG).write_bytes(config)
    checked = runs.check_runs(tmp_path)
    assert [r.name for r in checked.value] == ["good"]
    assert len(checked.skipped) == 1 and checked.skipped[0].startswith("bad: ")


@pytest.mark.parametrize("fits", [b"5", b'{"a": 1}', b"[1]", b"\xff"])
def test_a_bad_fits_file_is_named_and_the_run_still_listed_but_not_openable(tmp_path: Path, fits: bytes) -> None:
    (_good_run(tmp_path) / runs.FITS).write_bytes(fits)
    checked = runs.check_runs(tmp_path)
    assert [(r.name, r.fits) for r in checked.value] == [("good", ())]
    assert len(checked.skipped) == 1 and runs.FITS in checked.skipped[0]


def test_stray_and_half_saved_filter_files_are_named_not_listed(tmp_path: Path) -> None:
    run = _good_run(tmp_path)
    (run / runs.FILTERS / "epoch-abc.npy").write_bytes(b"x")
    runs.filter_file(run, 3).write_bytes(runs.npy_bytes(np.zeros(3)))  # killed before its .png
    (run / runs.FILTERS / "epoch-004.png").mkdir()  # not a file
    for name in ("epoch-0005.npy", "epoch-0005.png"):  # epoch 5, but not the name the page opens
        (run / runs.FILTERS / name).write_bytes(b"x")
    checked = runs.check_filters(run)
    assert checked.value == [0]
    text = " ".join(checked.skipped)
    assert "epoch-abc.npy" in text and "epoch-003: its .png is missing" in text and "epoch-004.png" in text
    assert "epoch-0005.png" in text


def test_filters_are_written_atomically_png_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed while saving an epoch's filters leaves no epoch the page would list."""
    run = _good_run(tmp_path)
    real = runs.atomic_write

    def killed_at_png(path: Path, data: bytes) -> None:
        if path.suffix == ".png":
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(runs, "atomic_write", killed_at_png)
    with pytest.raises(KeyboardInterrupt):
        runs.save_filters(run, 1, runs.npy_bytes(np.ones(3)), b"\x89PNG")
    assert runs.filter_epochs(run) == [0]
    assert not [p for p in (run / runs.FILTERS).iterdir() if p.name.startswith(".")]  # no temporary left


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "config.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        runs.atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["config.json"]


@pytest.mark.parametrize("result", [b"3", b"{}", b'{"curves": 3, "target": 0.25, "ratio": null, "note": ""}',
                                    b'{"curves": [{"activation": "relu", "lr": 0.1, "train_error": ["x"]}], '
                                    b'"target": 0.25, "ratio": null, "note": ""}', b"\xff"])
def test_a_broken_experiment_result_is_named_not_shown(tmp_path: Path, result: bytes) -> None:
    (tmp_path / runs.RESULT_FILE).write_bytes(result)
    checked = runs.check_result(tmp_path / runs.RESULT_FILE)
    assert checked.value is None and len(checked.skipped) == 1 and runs.RESULT_FILE in checked.skipped[0]


# Re-attack of issue 24, point 4: run-folder files the first round did not try.

def test_a_fifo_among_the_small_json_files_is_not_waited_on(tmp_path: Path) -> None:
    """filters/latest.json as a FIFO: open() blocked the live Training view for good (nobody ever writes)."""
    import os
    import threading

    run = _good_run(tmp_path)
    (run / runs.FILTERS).mkdir(exist_ok=True)
    os.mkfifo(run / runs.FILTERS / runs.LATEST_JSON)
    found: list[object] = []
    reader = threading.Thread(target=lambda: found.append(runs.latest_filters(run)), daemon=True)
    reader.start()
    reader.join(30)  # not a timing: a reader still blocked after this has hung
    if reader.is_alive():  # release it, so the old code's thread ends
        with open(run / runs.FILTERS / runs.LATEST_JSON, "wb"):
            pass
    assert found == [None]
    with pytest.raises(ValueError, match="not a regular file"):
        runs.small_json(run / runs.FILTERS / runs.LATEST_JSON)


def test_latest_snapshot_with_a_non_number_is_not_shown(tmp_path: Path) -> None:
    """A string structure reached the live caption's :.3f (ValueError: the live view went down)."""
    run = _good_run(tmp_path)
    (run / runs.FILTERS).mkdir(exist_ok=True)
    (run / runs.FILTERS / runs.LATEST_PNG).write_bytes(b"\x89PNG")
    (run / runs.FILTERS / runs.LATEST_JSON).write_text(json.dumps({"step": 1, "epoch": 1, "structure": "x"}))
    assert runs.latest_filters(run) is None
    (run / runs.FILTERS / runs.LATEST_JSON).write_text(json.dumps({"step": 1, "epoch": 1, "structure": 0.5}))
    assert runs.latest_filters(run) is not None


def test_the_trainers_latest_snapshot_is_not_named_as_a_stray_file(tmp_path: Path) -> None:
    """Found re-attacking: check_filters named filters/latest.npy/.png/.json, which the trainer writes during
    every run, as 'not a saved epoch', so each such run's Training page warned of a malformed folder."""
    run = _good_run(tmp_path)
    for name in (runs.LATEST_NPY, runs.LATEST_PNG, runs.LATEST_JSON):
        (run / runs.FILTERS / name).write_bytes(b"{}")
    assert runs.check_filters(run) == runs.Checked([0])
