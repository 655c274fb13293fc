"""Image files for batch work (`predict`, `index`): which files a path names, and a loader that decodes them.

Images are decoded in DataLoader worker processes (decoding, not the network, is what a folder
of photos waits on with a small model on a CPU) and batched for the network in the main process.
A file that cannot be read travels through the loader as an error message, not an exception,
and nothing here raises for one bad input.
"""
from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import AlexVizError
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


def loader(dataset: ImageFiles, batch_size: int, workers: int) -> DataLoader:
    """Batches of `dataset` through `collate`, decoded by up to `workers` forked processes (0: in this one)."""
    batches = -(-len(dataset) // batch_size)
    workers = min(workers, batches)
    # fork only: spawn/forkserver would re-run `python -m alexnet_viz` in every worker.
    if workers > 0 and "fork" in multiprocessing.get_all_start_methods():
        return DataLoader(dataset, batch_size=batch_size, num_workers=workers, collate_fn=collate,
                          multiprocessing_context="fork")
    return DataLoader(dataset, batch_size=batch_size, num_workers=0, collate_fn=collate)


__all__ = ["ImageFiles", "collate", "collect", "image_extensions", "loader"]
