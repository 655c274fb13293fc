"""`python -m alexnet_viz predict`: classify images and folders, one bad file never stops the rest.

Images are decoded in DataLoader worker processes (decoding, not the network, is what a folder
of photos waits on with a small model on a CPU) and batched for the network in the main process.
A file that cannot be read travels through the loader as an error message, not an exception.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import stat
import sys
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from alexnet_viz.analysis.probe import predict_batch
from alexnet_viz.core.casting import cast_input, dtype_of, twin
from alexnet_viz.core.device import device_name, pick_device
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.spec import Spec
from alexnet_viz.core.weights import default_weights, load_model
from alexnet_viz.errors import AlexVizError, ImageError
from alexnet_viz.inputs.images import ACCEPTED_FORMATS, load_image, to_tensor


def image_extensions() -> frozenset[str]:
    """File endings Pillow maps to a format we accept (.jpg, .jpeg, .png, .webp, .gif, .bmp, ...)."""
    return frozenset(ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in ACCEPTED_FORMATS)


def _kind(mode: int) -> str:
    """What a path that is neither a file nor a folder is, in words."""
    return ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _images_under(folder: Path, extensions: frozenset[str]) -> tuple[list[str], list[str]]:
    """(image-named regular files under `folder`, sorted; reasons parts of it could not be listed)."""
    found: list[str] = []
    problems: list[str] = []
    for top, _dirs, names in os.walk(folder, onerror=lambda exc: problems.append(f"{exc.filename}: {_why(exc)}")):
        for name in names:
            if Path(name).suffix.lower() not in extensions:
                continue
            path = os.path.join(top, name)
            try:
                regular = stat.S_ISREG(os.stat(path).st_mode)
            except OSError:
                regular = True  # listed but not stat-able: let the decoder report it on its own line
            if regular:
                found.append(path)
    return sorted(found), problems


def collect(paths: list[str]) -> list[tuple[str, str | None]]:
    """(path, None) for each file to classify and (path, error) for inputs that give none, in order.

    A named file is always tried, whatever its name says; a folder contributes the image-named
    regular files under it, recursively, in sorted order. Nothing here raises for one bad input:
    a path that cannot be looked at, a folder that cannot be listed or a FIFO becomes an error line.
    """
    extensions = image_extensions()
    formats = ", ".join(ACCEPTED_FORMATS)
    entries: list[tuple[str, str | None]] = []
    for given in paths:
        try:
            mode = os.stat(given).st_mode
        except FileNotFoundError:
            entries.append((given, "No such file or folder."))
            continue
        except OSError as exc:
            entries.append((given, f"No image file could be read here: {_why(exc)}."))
            continue
        if stat.S_ISDIR(mode):
            found, problems = _images_under(Path(given), extensions)
            unreadable = f" ({len(problems)} part(s) could not be read: {problems[0]})" if problems else ""
            entries += [(f, None) for f in found] or [(given, f"No {formats} files in this folder{unreadable}.")]
        elif stat.S_ISREG(mode):
            entries.append((given, None))
        else:
            entries.append((given, f"No image file: this is {_kind(mode)}, not a file."))
    return entries


class ImageFiles(Dataset):
    """Decoded, preprocessed images by index; a file that fails yields its error message instead."""

    def __init__(self, files: list[str], spec: Spec) -> None:
        self.files = files
        self.spec = spec

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor | None, str | None]:
        try:
            return i, to_tensor(load_image(self.files[i]), self.spec)[0], None
        except (AlexVizError, OSError) as exc:
            return i, None, str(exc)


def collate(items: list[tuple[int, torch.Tensor | None, str | None]]
            ) -> tuple[list[int], torch.Tensor | None, list[tuple[int, str]]]:
    """(indices of good images, their stacked tensors or None, [(index, error)]) for one batch."""
    good = [(i, x) for i, x, _ in items if x is not None]
    errors = [(i, error) for i, _, error in items if error is not None]
    return [i for i, _ in good], (torch.stack([x for _, x in good]) if good else None), errors


def _loader(dataset: ImageFiles, batch_size: int, workers: int) -> DataLoader:
    batches = -(-len(dataset) // batch_size)
    workers = min(workers, batches)
    # fork only: spawn/forkserver would re-run `python -m alexnet_viz` in every worker.
    if workers > 0 and "fork" in multiprocessing.get_all_start_methods():
        return DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate,
                          multiprocessing_context="fork")
    return DataLoader(dataset, batch_size=batch_size, num_workers=0, collate_fn=collate)


def classify(files: list[str], model: AlexNet, *, topk: int, batch_size: int, workers: int,
             autocast: str | None = None, precision: str = "float32") -> list[dict]:
    """One result per file, in order: {"path", "top": [{"label", "prob", "index"}]} or {"path", "error"}.

    `model` must already be in `precision` (casting.twin): each batch is cast to match it.
    """
    results: list[dict] = [{"path": f} for f in files]
    dataset = ImageFiles(files, model.spec)
    with tqdm(total=len(files), unit="img", file=sys.stderr, disable=None, leave=False) as bar:
        for indices, batch, errors in _loader(dataset, batch_size, workers):
            for i, error in errors:
                results[i]["error"] = error
            if batch is not None:
                batch = cast_input(batch, precision)
                for i, pred in zip(indices, predict_batch(model, batch, topk, autocast=autocast)):
                    results[i]["top"] = [{"label": label, "prob": round(prob, 6), "index": index}
                                         for index, label, prob in zip(pred.indices, pred.labels, pred.probs)]
            bar.update(len(indices) + len(errors))
    return results


def _table(results: list[dict], header: list[str]) -> str:
    lines = [*header, ""]
    for result in results:
        lines.append(result["path"])
        if "error" in result:
            lines.append(f"  error: {result['error']}")
            continue
        for rank, top in enumerate(result["top"], 1):
            lines.append(f"  {rank:>2}. {top['prob'] * 100:6.2f}%  {top['label']}")
    return "\n".join(lines) + "\n"


FORMATS = ("table", "json")


def run(paths: list[str], *, variant: str = "article", weights: str | None = None, device: str | None = None,
        topk: int = 5, batch_size: int = 16, workers: int | None = None, autocast: str | None = None,
        precision: str = "float32", fmt: str = "table") -> int:
    """Classify every input and print the results; exit 0 when at least one image was classified.

    The network runs as a twin in `precision` (weights cast once, channels_last): bf16 uses the
    CPU's bf16 units where it has them, at about a third of a float32 logit's precision.
    """
    if topk < 1 or batch_size < 1 or (workers is not None and workers < 0):
        raise AlexVizError("--topk and --batch-size must be at least 1, --workers at least 0.")
    entries = collect(paths)
    dev = pick_device(device)
    dtype_of(precision)  # an unknown name fails before any file is read
    model = twin(load_model(variant, weights or default_weights(), device=dev), precision)
    n_workers = min(2, os.cpu_count() or 1) if workers is None else workers
    files = [path for path, error in entries if error is None]
    classified = iter(classify(files, model, topk=topk, batch_size=batch_size, workers=n_workers,
                               autocast=autocast, precision=precision))
    results = [next(classified) if error is None else {"path": path, "error": error} for path, error in entries]
    provenance = model.provenance
    if provenance is None:  # load_model always records it; a model built another way has none to show
        raise AlexVizError("The model has no weights provenance; load it with alexnet_viz.load_model.")
    header = [f"weights: {provenance.describe()}", f"device: {device_name(dev)} · {precision}"]
    if fmt == "json":
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        print("\n".join(header), file=sys.stderr)
    else:
        sys.stdout.write(_table(results, header))
    if provenance.source == "random":
        print("warning: the weights are random, so these predictions mean nothing; use --weights imagenet "
              "(or a file) for real ones.", file=sys.stderr)
    done = sum("top" in r for r in results)
    if done == 0:
        raise ImageError(f"None of the {len(results)} input(s) could be classified; see the errors above.")
    return 0
