"""Training watched from the app: the filter-structure measure, the run manager (one run at a time,
stale locks, permission), the partial interval a stopped run logs, and Stop as a signal."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import demo, manager, runs
from alexnet_viz.train.config import resolve
from alexnet_viz.train.structure import kernel_smoothness, structure

# --- the structure measure ----------------------------------------------------------------------

def _gabor(period: float, angle: float = 0.6) -> np.ndarray:
    ys, xs = np.mgrid[-5:6, -5:6].astype(np.float64)
    wave = np.cos(2 * np.pi * (xs * np.cos(angle) + ys * np.sin(angle)) / period)
    g = np.exp(-(xs ** 2 + ys ** 2) / 18.0) * wave
    return np.stack([g, -g, 0.3 * g])[None]  # red against green: an oriented, colour-opponent kernel


@pytest.mark.parametrize("variant", ["torchvision", "paper"])
def test_structure_is_near_zero_for_the_initialisation(variant: str) -> None:
    c1 = build_model(VARIANTS[variant], seed=0).layer("C1").weight.detach().numpy()
    assert abs(structure(c1)) < 0.03


def test_the_demos_c1_starts_as_faint_noise_of_no_structure() -> None:
    from alexnet_viz.train.loop import initial_model, training_spec

    config = resolve(demo=True, run_dir="unused")
    c1 = initial_model(config, training_spec(config, len(demo.CLASSES))).layer("C1").weight.detach().numpy()
    assert abs(float(c1.std()) - 0.01) < 0.001 and abs(structure(c1)) < 0.03


def test_structure_is_near_zero_for_noise_of_any_scale() -> None:
    noise = np.random.default_rng(1).normal(size=(64, 3, 11, 11))
    assert abs(structure(noise)) < 0.03 and structure(noise * 1e-4) == pytest.approx(structure(noise))


def test_a_smooth_oriented_kernel_scores_high_and_a_checkerboard_low() -> None:
    assert kernel_smoothness(_gabor(8.0))[0] > 0.9
    assert structure(np.concatenate([_gabor(8.0), _gabor(12.0, 2.0)])) > 0.9
    checker = np.indices((11, 11)).sum(0) % 2 * 2.0 - 1.0
    assert kernel_smoothness(np.stack([checker] * 3)[None])[0] < 0
    assert kernel_smoothness(np.zeros((1, 3, 11, 11)))[0] == 0.0  # no energy: nothing to call smooth


def test_structure_refuses_what_is_no_conv_weight() -> None:
    with pytest.raises(ValueError, match="out, in, k, k"):
        structure(np.zeros((3, 11, 11)))


# --- the run manager ----------------------------------------------------------------------------

@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(manager.PERMISSION_ENV, raising=False)
    return tmp_path / "runs"


def _lock(root: Path, pid: int | None, **changes: object) -> None:
    root.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "run_dir": str(root / "page-demo-x"), "started": time.time(), "server_pid": os.getpid(),
              "host": os.uname().nodename, "epochs": 5, "stopping": False, **changes}
    (root / manager.LOCK).write_text(json.dumps(record))


@pytest.fixture
def trainer_like(root: Path) -> subprocess.Popen:
    """A live process whose command line names the run directory, as a real trainer's does."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", str(root / "page-demo-x")])
    yield proc
    proc.kill()
    proc.wait()


def test_one_run_at_a_time_every_session_sees_it(root: Path, trainer_like: subprocess.Popen) -> None:
    _lock(root, trainer_like.pid)
    found = manager.check(root)
    assert found.active is not None and found.active.pid == trainer_like.pid and found.cleared is None
    with pytest.raises(AlexVizError, match="going on already"):
        manager.start(root)
    assert [p.name for p in root.iterdir()] == [manager.LOCK]  # nothing else was started


def test_a_stale_lock_is_cleared_when_its_trainer_is_gone(root: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _lock(root, gone.pid)
    found = manager.check(root)
    assert found.active is None and found.cleared is not None and found.cleared.pid == gone.pid
    assert not (root / manager.LOCK).exists()
    assert manager.check(root) == manager.Check(None, None)


def test_a_run_started_by_a_server_stops_once_the_server_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    from alexnet_viz.train.config import PARENT_ENV
    from alexnet_viz.train.loop import _Stop

    monkeypatch.setenv(PARENT_ENV, str(os.getppid()))
    assert not _Stop().asked  # the server is still this process's parent
    monkeypatch.setenv(PARENT_ENV, str(os.getppid() + 100000))  # another parent: ours has gone
    assert _Stop().asked
    monkeypatch.delenv(PARENT_ENV)
    assert not _Stop().asked  # a run from a terminal


def test_a_lock_naming_another_program_is_stale(root: Path) -> None:
    _lock(root, os.getpid())  # alive, but pytest is no trainer: the pid was reused
    assert manager.check(root).cleared is not None


def test_a_damaged_lock_is_left_while_young_then_cleared(root: Path) -> None:
    root.mkdir()
    (root / manager.LOCK).write_text("{half")
    assert manager.check(root) == manager.Check(None, None) and (root / manager.LOCK).exists()
    old = time.time() - 60
    os.utime(root / manager.LOCK, (old, old))
    manager.check(root)
    assert not (root / manager.LOCK).exists()


@pytest.mark.parametrize("value,allowed", [(None, True), ("1", True), ("on", True), ("0", False),
                                           ("off", False), ("maybe", False)])
def test_permission_follows_the_environment(root: Path, monkeypatch: pytest.MonkeyPatch, value: str | None,
                                            allowed: bool) -> None:
    if value is not None:
        monkeypatch.setenv(manager.PERMISSION_ENV, value)
    said = manager.permission()
    assert said.allowed is allowed and manager.PERMISSION_ENV in said.why
    if not allowed:
        with pytest.raises(AlexVizError, match="off on this server"):
            manager.start(root)
        assert not root.exists()


def test_serve_turns_training_off_for_its_replicas_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    from alexnet_viz.serving.serve import replica_env

    monkeypatch.delenv(manager.PERMISSION_ENV, raising=False)
    assert replica_env(None, "s")[manager.PERMISSION_ENV] == "0"
    assert replica_env({manager.PERMISSION_ENV: "1"}, "s")[manager.PERMISSION_ENV] == "1"
    monkeypatch.setenv(manager.PERMISSION_ENV, "1")
    assert replica_env(None, "s")[manager.PERMISSION_ENV] == "1"


def test_progress_gives_epochs_and_time_left() -> None:
    records = [{"kind": "train", "epoch": 0.5, "time": 100.0}, {"kind": "val", "epoch": 1},
               {"kind": "train", "epoch": 1.5, "time": 160.0}]
    now = manager.progress(records, epochs=5)
    assert now.fraction == pytest.approx(0.3) and now.epoch == 1.5
    assert now.seconds_left == pytest.approx(60.0 * 3.5)
    assert manager.progress(records[:1], 5).seconds_left is None
    assert manager.progress([], 5) == manager.Progress(0.0, 0.0, None)


def test_page_runs_take_the_servers_extra_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(manager.ARGS_ENV, "--demo-per-class 4 --threads 1")
    args = manager.train_args(3, tmp_path / "r")
    assert args[:2] == ["train", "--demo"] and args[-4:] == ["--demo-per-class", "4", "--threads", "1"]
    assert "--epochs" in args and args[args.index("--epochs") + 1] == "3"


# --- the trainer: partial intervals, snapshots, Stop ---------------------------------------------------

@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.make_dataset(tmp_path_factory.mktemp("demo"), per_class=2, val_per_class=1, seed=3)


@pytest.mark.slow
def test_a_run_stopped_mid_interval_logs_its_partial_loss(tiny: Path, tmp_path: Path) -> None:
    from alexnet_viz.train.loop import train

    run = tmp_path / "run"
    config = resolve(demo=True, data=str(tiny), run_dir=str(run), batch_size=4, epochs=2, workers=0,
                     log_every=10, max_steps=3, progress=False, threads=1, ten_crop=False)
    assert train(config).stopped == "max_steps"
    lines = [r for r in runs.read_metrics(run) if r["kind"] == "train"]
    assert [r["step"] for r in lines] == [3] and np.isfinite(lines[0]["loss"])  # before: no loss at all
    assert abs(lines[0]["structure"]) < 0.05 and "time" in lines[0]
    png, about = runs.latest_filters(run)
    assert about["step"] == 3 and png.read_bytes().startswith(b"\x89PNG")  # the stop's own snapshot


@pytest.mark.slow
def test_stop_from_the_manager_saves_a_checkpoint_and_the_last_loss(tiny: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "runs"
    monkeypatch.delenv(manager.PERMISSION_ENV, raising=False)
    monkeypatch.setenv(manager.ARGS_ENV, f"--data {tiny} --batch-size 4 --workers 0 --threads 1 --log-every 1000")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    active = manager.start(root, epochs=50)
    assert manager.check(root).active == active
    deadline = time.monotonic() + 300  # wait for the first steps, however slow the machine; no timing assertion
    while runs.latest_filters(active.path) is None and time.monotonic() < deadline and manager.check(root).active:
        time.sleep(0.2)
    assert manager.stop(root).stopping
    while manager.check(root).active is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert manager.check(root) == manager.Check(None, None)  # the server's reaper took the lock away
    records = runs.read_metrics(active.path)
    assert records[-1]["kind"] == "end" and records[-1]["stopped"] == "interrupted", manager.run_log_tail(active.path)
    assert records[-2]["kind"] == "train" and records[-2]["step"] == records[-1]["step"]  # the partial interval
    assert (active.path / runs.WEIGHTS).is_file() and (active.path / runs.STATE).is_file()
    assert "--resume" in manager.run_log_tail(active.path)


@pytest.mark.slow
def test_no_run_outlives_the_server_that_started_it(tiny: Path, tmp_path: Path) -> None:
    """A "server" starts a run and dies without a word; its trainer stops cleanly and the lock is cleared."""
    root = tmp_path / "runs"
    server = f"""
import os, time
from pathlib import Path
from alexnet_viz.train import manager, runs
active = manager.start(Path({str(root)!r}), epochs=50)
while runs.latest_filters(active.path) is None:
    time.sleep(0.2)
print(active.pid, active.run_dir, flush=True)
os._exit(0)
"""
    env = {**os.environ, "OMP_NUM_THREADS": "1", manager.PERMISSION_ENV: "1",
           manager.ARGS_ENV: f"--data {tiny} --batch-size 4 --workers 0 --threads 1 --log-every 1000"}
    said = subprocess.run([sys.executable, "-c", server], capture_output=True, text=True, env=env, timeout=600,
                          check=True).stdout.split()
    pid, run = int(said[0]), Path(said[1])
    deadline = time.monotonic() + 300  # however slow the machine; no timing assertion
    while time.monotonic() < deadline and manager._process_alive(pid, str(run)):
        time.sleep(0.2)
    records = runs.read_metrics(run)
    assert records[-1]["kind"] == "end" and records[-1]["stopped"] == "interrupted", manager.run_log_tail(run)
    assert records[-2]["kind"] == "train" and (run / runs.WEIGHTS).is_file()
    found = manager.check(root)
    assert found.active is None and found.cleared is not None and found.cleared.pid == pid
