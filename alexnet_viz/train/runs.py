"""A run directory's files, written by the training loop and read by the app (no torch import).

    config.json     the resolved TrainConfig
    classes.json    class names; output unit i of the checkpoint is class i
    fits.json       the variants whose parameter shapes last.pt has (empty: a narrowed head, as the demo's)
    metrics.jsonl   one JSON object a line: kind "train" (per interval), "val" (per epoch), "test", "end"
    last.pt         the model's plain state dict: a weights file for predict and the app
    state.pt        everything --resume needs (model, optimiser, scheduler, RNG, position)
    filters/epoch-NNN.npy and .png   C1's weights after each epoch (epoch-000: the initialisation)
    filters/latest.npy, .png, .json  C1 every few seconds while the run goes (json: step, epoch, structure)
    train.log       the trainer's output, for a run started from the Training page (train/manager.py)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG, CLASSES, FITS, METRICS, WEIGHTS, STATE, FILTERS = ("config.json", "classes.json", "fits.json", "metrics.jsonl",
                                                             "last.pt", "state.pt", "filters")
LATEST_NPY, LATEST_PNG, LATEST_JSON = "latest.npy", "latest.png", "latest.json"  # under filters/
RESULT_FILE = "relu-vs-tanh.json"  # `experiment relu-vs-tanh` writes it beside the runs


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside and rename, so a reader (the app) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def append_metric(run: Path, record: dict) -> None:
    with open(run / METRICS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
        fh.flush()


def read_metrics(run: str | Path) -> list[dict]:
    """Every complete line of metrics.jsonl (a line being written is left for the next read)."""
    path = Path(run) / METRICS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def truncate_metrics(run: Path, after_step: int) -> None:
    """Drop lines past `after_step` (a run killed between checkpoints repeats those steps on resume)
    and the earlier invocation's "end" line."""
    kept = [r for r in read_metrics(run) if r.get("step", 0) <= after_step and r.get("kind") != "end"]
    atomic_write(run / METRICS, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode())


def filter_epochs(run: str | Path) -> list[int]:
    """Epochs whose C1 filters were saved, in order."""
    folder = Path(run) / FILTERS
    return sorted(int(p.stem.split("-")[1]) for p in folder.glob("epoch-*.npy")) if folder.is_dir() else []


def filter_file(run: str | Path, epoch: int, suffix: str = ".npy") -> Path:
    return Path(run) / FILTERS / f"epoch-{epoch:03d}{suffix}"


def latest_filters(run: str | Path) -> tuple[Path, dict] | None:
    """The newest snapshot of C1 while a run goes: its PNG and {step, epoch, structure}; None before the first."""
    folder = Path(run) / FILTERS
    try:
        about = json.loads((folder / LATEST_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    png = folder / LATEST_PNG
    return (png, about) if isinstance(about, dict) and png.is_file() else None


@dataclass(frozen=True)
class RunInfo:
    """One run directory as the app lists it."""

    path: Path
    name: str
    variant: str
    has_weights: bool
    fits: tuple[str, ...]  # variants its weights load into unchanged

    @property
    def weights(self) -> Path:
        return self.path / WEIGHTS


def list_runs(root: str | Path) -> list[RunInfo]:
    """Run directories (those holding a config.json) directly under `root`, newest first."""
    base = Path(root)
    if not base.is_dir():
        return []
    found = []
    for d in base.iterdir():
        if not (d / CONFIG).is_file():
            continue
        try:
            variant = str(json.loads((d / CONFIG).read_text()).get("variant", "article"))
            fits = tuple(json.loads((d / FITS).read_text())) if (d / FITS).is_file() else ()
        except (OSError, json.JSONDecodeError):
            continue
        found.append((d.stat().st_mtime, RunInfo(d.resolve(), d.name, variant, (d / WEIGHTS).is_file(), fits)))
    return [info for _, info in sorted(found, key=lambda t: (-t[0], t[1].name))]


def load_result(path: str | Path) -> dict | None:
    """A saved experiment result as a dict (for the app), or None when there is none."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError):
        return None
