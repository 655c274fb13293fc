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

Every whole file is written under a temporary name and renamed into place, so a reader never sees
half of one. Reads trust nothing: the folder is the server's, but a run killed mid-write, a file
edited by hand or a disk error must not take the Training page down for every visitor. Each
`check_*` reader returns what it could read and one line for each thing it skipped.
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

CONFIG, CLASSES, FITS, METRICS, WEIGHTS, STATE, FILTERS = ("config.json", "classes.json", "fits.json", "metrics.jsonl",
                                                             "last.pt", "state.pt", "filters")
LATEST_NPY, LATEST_PNG, LATEST_JSON = "latest.npy", "latest.png", "latest.json"  # under filters/
RESULT_FILE = "relu-vs-tanh.json"  # `experiment relu-vs-tanh` writes it beside the runs
MAX_JSON_BYTES = 1 << 20  # config.json, fits.json, relu-vs-tanh.json are a few kB; more is not ours
_FILTER_NAME = re.compile(r"epoch-(\d{3,6})\.(npy|png)")
# Fields each kind of metrics line must hold as numbers: what the page plots and the resume reads.
_NUMBERS = {"train": ("epoch", "step", "loss", "acc", "lr", "images_per_s"), "val": ("epoch", "step", "lr"),
            "test": ("epoch", "step"), "end": ("epoch", "step")}
_VAL_NUMBERS = ("val_loss", "val_top1", "val_top5")

T = TypeVar("T")


@dataclass(frozen=True)
class Checked(Generic[T]):
    """What could be read, and one line for each line or file that was skipped (for the page to show)."""

    value: T
    skipped: tuple[str, ...] = ()


class _Unreadable(ValueError):
    """One file or line that is not what it should be; the message says how."""


def atomic_write(path: Path, data: bytes) -> None:
    """Write beside, flush to disk and rename, so a reader (the app) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def append_metric(run: Path, record: dict) -> None:
    with open(run / METRICS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True) + "\n")
        fh.flush()


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _record(line: bytes) -> dict:
    """One metrics line as a record the page can plot, or _Unreadable saying why not."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _Unreadable("not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise _Unreadable("not JSON") from exc
    if not isinstance(record, dict):
        raise _Unreadable(f"a JSON {type(record).__name__}, not an object")
    kind = record.get("kind")
    if kind not in _NUMBERS:
        raise _Unreadable(f"kind {str(kind)[:20]!r} is none of {', '.join(_NUMBERS)}")
    needed = _NUMBERS[kind] + (_VAL_NUMBERS if kind == "val" and "val_top1" in record else ())
    bad = [name for name in needed if not _number(record.get(name))]
    if bad:
        raise _Unreadable(f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} missing or not a number")
    return record


def check_metrics(run: str | Path) -> Checked[list[dict]]:
    """Every complete, well-formed line of metrics.jsonl; each other complete line is named.

    The last line, when it has no newline yet, is being written: it is left for the next read.
    """
    path = Path(run) / METRICS
    try:
        data = path.read_bytes() if path.is_file() else b""
    except OSError as exc:
        return Checked([], (f"{METRICS}: could not be read ({exc.strerror or exc}).",))
    lines = data.split(b"\n")[:-1]  # the piece after the last newline is unfinished
    records, skipped = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(_record(line))
        except _Unreadable as exc:
            skipped.append(f"{METRICS} line {number}: {exc}.")
    return Checked(records, _summarised(skipped))


def _summarised(lines: list[str], most: int = 5) -> tuple[str, ...]:
    """At most `most` lines, then how many more: a file of a million bad lines is one short note."""
    return tuple(lines[:most]) + ((f"… and {len(lines) - most} more lines like these.",) if len(lines) > most else ())


def read_metrics(run: str | Path) -> list[dict]:
    """The well-formed records of metrics.jsonl (see check_metrics for what was skipped)."""
    return check_metrics(run).value


def truncate_metrics(run: Path, after_step: int) -> None:
    """Drop lines past `after_step` (a run killed between checkpoints repeats those steps on resume)
    and the earlier invocation's "end" line."""
    kept = [r for r in read_metrics(run) if r["step"] <= after_step and r["kind"] != "end"]
    atomic_write(run / METRICS, "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept).encode())


def filter_file(run: str | Path, epoch: int, suffix: str = ".npy") -> Path:
    return Path(run) / FILTERS / f"epoch-{epoch:03d}{suffix}"


def save_filters(run: Path, epoch: int, weights: bytes, picture: bytes) -> None:
    """C1's weights (.npy bytes) and their picture (.png), each atomically; the .png last, since it marks
    the epoch as complete (check_filters lists an epoch only when both are there)."""
    (run / FILTERS).mkdir(exist_ok=True)
    atomic_write(filter_file(run, epoch), weights)
    atomic_write(filter_file(run, epoch, ".png"), picture)


def npy_bytes(array: object) -> bytes:
    """An array as the bytes of a .npy file, for atomic_write."""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def check_filters(run: str | Path) -> Checked[list[int]]:
    """Epochs whose C1 filters were saved whole (.npy and .png both there), in order; stray names named."""
    folder = Path(run) / FILTERS
    try:
        entries = sorted(p for p in folder.iterdir() if not p.name.startswith(".")) if folder.is_dir() else []
    except OSError as exc:
        return Checked([], (f"{FILTERS}/: could not be listed ({exc.strerror or exc}).",))
    found: dict[int, set[str]] = {}
    skipped = []
    for entry in entries:
        if entry.name in (LATEST_NPY, LATEST_PNG, LATEST_JSON):  # the trainer's newest snapshot, not an epoch
            continue
        match = _FILTER_NAME.fullmatch(entry.name)
        if match is None or entry.name != filter_file(run, int(match.group(1)), "." + match.group(2)).name \
                or not entry.is_file():  # epoch-0001.png would list epoch 1, whose file is epoch-001.png
            skipped.append(f"{FILTERS}/{entry.name}: not a saved epoch (epoch-NNN.npy and .png are).")
            continue
        found.setdefault(int(match.group(1)), set()).add(match.group(2))
    for epoch, kinds in sorted(found.items()):
        if kinds != {"npy", "png"}:
            missing = ({"npy", "png"} - kinds).pop()
            skipped.append(f"{FILTERS}/epoch-{epoch:03d}: its .{missing} is missing (the run may have stopped "
                           "while saving it).")
    return Checked(sorted(e for e, kinds in found.items() if kinds == {"npy", "png"}), _summarised(skipped))


def filter_epochs(run: str | Path) -> list[int]:
    """Epochs whose C1 filters were saved whole, in order."""
    return check_filters(run).value


def small_json(path: Path) -> object:
    """A small JSON file's value, or a ValueError saying why not. Only a regular file is read: a FIFO
    blocked the page's open() for good, and a link to /dev/zero never ends."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _Unreadable("not a regular file")
            data = fh.read(MAX_JSON_BYTES + 1)
    except OSError as exc:
        raise _Unreadable(f"could not be read ({exc.strerror or exc})") from exc
    if len(data) > MAX_JSON_BYTES:
        raise _Unreadable(f"larger than {MAX_JSON_BYTES >> 10} kB")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _Unreadable("not UTF-8") from exc
    except (ValueError, RecursionError) as exc:
        raise _Unreadable("not JSON") from exc
def latest_filters(run: str | Path) -> tuple[Path, dict] | None:
    """The newest snapshot of C1 while a run goes: its PNG and {step, epoch, structure}; None before the first."""
    folder = Path(run) / FILTERS
    try:
        about = small_json(folder / LATEST_JSON)
    except _Unreadable:
        return None
    png = folder / LATEST_PNG
    if not isinstance(about, dict) or not all(_number(about.get(k, 0)) for k in ("step", "epoch", "structure")):
        return None  # a string structure broke the live caption
    return (png, about) if png.is_file() else None


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


def _run_info(d: Path) -> tuple[float, RunInfo, str | None]:
    """(mtime, info, a note on its fits.json if that was skipped); _Unreadable when config.json is."""
    config = small_json(d / CONFIG)
    if not isinstance(config, dict):
        raise _Unreadable(f"{CONFIG} is a JSON {type(config).__name__}, not an object")
    variant = config.get("variant", "article")
    if not isinstance(variant, str) or not 0 < len(variant) <= 64:
        raise _Unreadable(f"{CONFIG} names no variant")
    fits: tuple[str, ...] = ()
    note = None
    if (d / FITS).is_file():
        try:
            listed = small_json(d / FITS)
            if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
                raise _Unreadable("not a list of variant names")
            fits = tuple(listed)
        except _Unreadable as exc:
            note = f"{d.name}/{FITS}: {exc}; its checkpoint cannot be opened."
    try:
        mtime, resolved = d.stat().st_mtime, d.resolve()
    except (OSError, RuntimeError) as exc:
        raise _Unreadable(f"could not be read ({exc})") from exc
    return mtime, RunInfo(resolved, d.name, variant, (d / WEIGHTS).is_file(), fits), note


def check_runs(root: str | Path) -> Checked[list[RunInfo]]:
    """Run directories (those holding a config.json) directly under `root`, newest first; a run whose
    config.json cannot be read is named and left out."""
    base = Path(root)
    try:
        dirs = sorted(base.iterdir()) if base.is_dir() else []
    except OSError as exc:
        return Checked([], (f"{base}: could not be listed ({exc.strerror or exc}).",))
    found, skipped = [], []
    for d in dirs:
        if not (d / CONFIG).is_file():
            continue
        try:
            mtime, info, note = _run_info(d)
        except _Unreadable as exc:
            skipped.append(f"{d.name}: {exc}; the run is not listed.")
            continue
        found.append((mtime, info))
        skipped += [note] if note else []
    return Checked([info for _, info in sorted(found, key=lambda t: (-t[0], t[1].name))], tuple(skipped))


def list_runs(root: str | Path) -> list[RunInfo]:
    """Run directories directly under `root`, newest first (see check_runs for what was skipped)."""
    return check_runs(root).value


def _curve_ok(curve: object) -> bool:
    return (isinstance(curve, dict) and isinstance(curve.get("activation"), str) and _number(curve.get("lr"))
            and isinstance(curve.get("train_error"), list) and bool(curve["train_error"])
            and all(_number(e) for e in curve["train_error"]))


_RESULT_FIELDS: dict[str, Callable[[object], bool]] = {
    "curves": lambda v: isinstance(v, list) and bool(v) and all(_curve_ok(c) for c in v),
    "target": _number, "ratio": lambda v: v is None or _number(v), "note": lambda v: isinstance(v, str)}


def check_result(path: str | Path) -> Checked[dict | None]:
    """A saved experiment result (for the app): None when there is none; a malformed one is named."""
    path = Path(path)
    if not path.is_file():
        return Checked(None)
    try:
        result = small_json(path)
        if not isinstance(result, dict):
            raise _Unreadable(f"a JSON {type(result).__name__}, not an object")
        bad = [name for name, ok in _RESULT_FIELDS.items() if not ok(result.get(name))]
        if bad:
            raise _Unreadable(f"{', '.join(bad)} missing or malformed")
    except _Unreadable as exc:
        return Checked(None, (f"{path.name}: {exc}; run the experiment again to rewrite it.",))
    return Checked(result)


def load_result(path: str | Path) -> dict | None:
    """A saved experiment result as a dict, or None when there is none or it is malformed."""
    return check_result(path).value
