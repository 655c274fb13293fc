"""Training runs started from the app: one at a time per runs folder, owned by the server that started it.

The lock is a file in the runs folder (`.training.json`), created with O_EXCL, so two sessions, or two
replicas of `alexnet-viz serve` sharing the folder, never start two runs. It names the trainer's
process, its run directory, when it started and the server process that owns it; every session reads
it to watch the run, and none waits on it. Stop sends SIGINT: the trainer finishes its step, logs the
partial interval, saves a checkpoint and exits. A trainer that died leaves the lock behind; whoever
reads it next finds the process gone and clears it.

The trainer runs as `python -m alexnet_viz train --demo --run-dir RUN ...` with ALEXNET_TRAIN_PARENT
naming the server, so it stops cleanly when the server goes away (train/loop.py): no run outlives the
server that owns it. The server reaps its trainer in a thread and removes the lock when it exits.

Whoever runs the server decides whether visitors may start runs: `ALEXNET_TRAINING_FROM_PAGE=1|0`, on
when unset (a single `streamlit run`); `alexnet-viz serve` sets 0 for its replicas unless given.
"""
from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import runs
from alexnet_viz.train.config import PARENT_ENV, RUNS_ENV

PERMISSION_ENV = "ALEXNET_TRAINING_FROM_PAGE"
ARGS_ENV = "ALEXNET_TRAINING_ARGS"  # extra `train` flags for page runs, chosen by whoever runs the server
LOCK = ".training.json"
LOG = "train.log"
PAGE_LOG_EVERY = 5  # steps per loss point: a new point every few seconds on a CPU
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


@dataclass(frozen=True)
class Permission:
    """Whether this server lets visitors start runs, and why, in words for the page."""

    allowed: bool
    why: str


def permission() -> Permission:
    """Read ALEXNET_TRAINING_FROM_PAGE: on when unset, off for 0 (serve's default), on for 1."""
    raw = os.environ.get(PERMISSION_ENV, "").strip().lower()
    if not raw:
        return Permission(True, f"`{PERMISSION_ENV}` is not set, and a single `streamlit run` lets visitors "
                                "train by default.")
    if raw in _ON:
        return Permission(True, f"whoever runs this server set `{PERMISSION_ENV}={raw}`.")
    if raw in _OFF:
        return Permission(False, f"this server runs with `{PERMISSION_ENV}={raw}`: `alexnet-viz serve` sets it "
                                 "for its replicas (many visitors share one machine) unless whoever runs it sets "
                                 f"`{PERMISSION_ENV}=1`.")
    return Permission(False, f"`{PERMISSION_ENV}={raw}` is neither 1 nor 0, so training from the page stays off.")


@dataclass(frozen=True)
class Active:
    """The run a server started, as the lock file names it."""

    pid: int | None  # the trainer; None for the moment between taking the lock and starting it
    run_dir: str
    started: float  # time.time() when Start was pressed
    server_pid: int
    host: str
    epochs: int
    stopping: bool = False

    @property
    def path(self) -> Path:
        return Path(self.run_dir)


@dataclass(frozen=True)
class Check:
    """What a page finds: the live run (or None) and a stale lock it just cleared (or None)."""

    active: Active | None
    cleared: Active | None


def _lock(root: Path) -> Path:
    return Path(root) / LOCK


def _read(root: Path) -> tuple[bool, Active | None]:
    """(is there a lock, its run); (True, None) for a lock that cannot be read (half written or damaged)."""
    try:
        return True, Active(**json.loads(_lock(root).read_text(encoding="utf-8")))
    except FileNotFoundError:
        return False, None
    except (OSError, ValueError, TypeError):
        return True, None


def _write(root: Path, active: Active) -> None:
    runs.atomic_write(_lock(root), json.dumps(asdict(active), sort_keys=True).encode())


def _process_alive(pid: int, what: str) -> bool:
    """Is `pid` a live (not zombie) process whose command line mentions `what`? Linux's /proc when present."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, but we cannot look further
    proc = Path("/proc") / str(pid)
    if not proc.is_dir():
        return True
    with contextlib.suppress(OSError):
        if proc.joinpath("stat").read_text().rsplit(")", 1)[-1].split()[0] in ("Z", "X"):
            return False
        return what in proc.joinpath("cmdline").read_bytes().decode(errors="replace")
    return False


def _young(path: Path, seconds: float = 10.0) -> bool:
    try:
        return time.time() - path.stat().st_mtime < seconds
    except OSError:
        return False


def alive(active: Active) -> bool:
    """Still running: the trainer's process (or, before it starts, its server's) exists on this host."""
    if active.host != socket.gethostname():
        return True  # another machine sharing the folder: only it can tell
    if active.pid is None:
        return _process_alive(active.server_pid, "")
    return _process_alive(active.pid, active.run_dir)  # its command line names its run: not a reused pid


def check(root: str | Path) -> Check:
    """The run going on in `root`, clearing a lock whose trainer is gone (a crash, a killed server)."""
    root = Path(root)
    exists, found = _read(root)
    if not exists or (found is None and _young(_lock(root))):  # no lock, or one being written this instant
        return Check(None, None)
    if found is not None and alive(found):
        return Check(found, None)
    with contextlib.suppress(FileNotFoundError):
        _lock(root).unlink()
    return Check(None, found)


def train_args(epochs: int, run_dir: Path) -> list[str]:
    """The `train` command line of a page run: the demo recipe, then the server's ALEXNET_TRAINING_ARGS."""
    extra = shlex.split(os.environ.get(ARGS_ENV, ""))
    return ["train", "--demo", "--run-dir", str(run_dir), "--epochs", str(epochs), "--log-every",
            str(PAGE_LOG_EVERY), "--no-progress", *extra]


def start(root: str | Path, epochs: int = 5) -> Active:
    """Start the demo recipe in the background of this server process; AlexVizError if one runs already."""
    if not permission().allowed:
        raise AlexVizError(f"Training from the page is off on this server: {permission().why}")
    if not 1 <= epochs <= 100:
        raise AlexVizError("Choose between 1 and 100 epochs.")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    check(root)  # a stale lock goes first
    run_dir = root / f"page-demo-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    active = Active(None, str(run_dir.resolve()), time.time(), os.getpid(), socket.gethostname(), epochs)
    run_dir = active.path  # resolved: the trainer's command line names it as the lock does
    try:
        fd = os.open(_lock(root), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise AlexVizError("A run is going on already; watch it, or stop it first.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(active), fh)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with open(run_dir / LOG, "ab") as log:
            env = {**os.environ, RUNS_ENV: str(root), PARENT_ENV: str(os.getpid()),
                   "PYTHONPATH": os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))}
            proc = subprocess.Popen([sys.executable, "-m", "alexnet_viz", *train_args(epochs, run_dir)], stdout=log,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
    except OSError as exc:
        _lock(root).unlink(missing_ok=True)
        raise AlexVizError(f"Could not start the trainer: {exc}.") from exc
    active = Active(proc.pid, active.run_dir, active.started, active.server_pid, active.host, epochs)
    _write(root, active)
    threading.Thread(target=_reap, args=(proc, root), name=f"trainer-{proc.pid}", daemon=True).start()
    return active


def _reap(proc: subprocess.Popen, root: Path) -> None:
    """Wait for the trainer (no zombie is left) and remove the lock if it still names it."""
    proc.wait()
    _, found = _read(root)
    if found is not None and found.pid == proc.pid:
        _lock(root).unlink(missing_ok=True)


def stop(root: str | Path) -> Active | None:
    """Ask the running trainer to stop cleanly (SIGINT); the run it stops, or None when none runs."""
    root = Path(root)
    active = check(root).active
    if active is None or active.pid is None:
        return active
    if active.host != socket.gethostname():
        raise AlexVizError(f"The run was started on {active.host}; stop it from a page served there.")
    with contextlib.suppress(ProcessLookupError):
        os.kill(active.pid, signal.SIGINT)
    stopping = Active(**{**asdict(active), "stopping": True})
    _write(root, stopping)
    return stopping


@dataclass(frozen=True)
class Progress:
    """How far a run is, for the page's progress bar."""

    fraction: float  # of the planned epochs
    epoch: float  # epochs done, with the share of the current one
    seconds_left: float | None  # None until two loss lines give a pace


def progress(records: list[dict], epochs: int) -> Progress:
    """Epochs done from the last "train" line; time left at the pace between the first and the last line."""
    train = [r for r in records if r.get("kind") == "train" and isinstance(r.get("epoch"), (int, float))]
    if not train:
        return Progress(0.0, 0.0, None)
    first, last = train[0], train[-1]
    done = float(last["epoch"])
    left = None
    if "time" in first and "time" in last and done > float(first["epoch"]):
        pace = (float(last["time"]) - float(first["time"])) / (done - float(first["epoch"]))  # seconds an epoch
        left = max(0.0, pace * (epochs - done))
    return Progress(min(1.0, done / epochs) if epochs > 0 else 0.0, done, left)


def phase(active: Active) -> str:
    """What the trainer is doing before its first loss line, read from the files it has written."""
    run = active.path
    if active.stopping:
        return "Stopping: the trainer finishes its step and saves a checkpoint."
    if not (run / runs.CONFIG).is_file():
        return "Starting the trainer (loading PyTorch)."
    if not (run / runs.CLASSES).is_file():
        return "Making the demo images (once per server; later runs reuse them)."
    if not runs.read_metrics(run):
        return "Training: the first loss comes after the first few steps."
    return "Training."


def run_log_tail(run: Path, lines: int = 8) -> str:
    """The last lines a page run's trainer printed (errors land there); "" for a run without a log."""
    try:
        text = (Path(run) / LOG).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
