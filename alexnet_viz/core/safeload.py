"""Reading weight files without trusting them: hashing, tensor-only unpickling, safetensors.

A `.pth` file is a pickle, and a pickle can run any code when loaded. Everything here goes
through `torch.load(..., weights_only=True)`, which refuses objects other than tensors and plain
containers, or through safetensors, which has no code in it at all.

Tensor-only is not harmless yet: a pickle states each tensor's shape and strides apart from the
bytes behind it, so 1.6 kB can describe a (2^20, 2^20) tensor whose strides are all 0. Anything
that then reads it as a whole (isfinite, a dtype cast, load_state_dict) allocates what it claims.
So every tensor is checked against its own storage, from metadata only, before any value is read.
"""
from __future__ import annotations

import hashlib
import io
import pickletools
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from alexnet_viz.errors import WeightsError

TORCH_SUFFIXES = (".pth", ".pt")
SAFETENSORS_SUFFIX = ".safetensors"
_CHUNK = 1 << 20
FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)  # what a network's weights are
# A zip-format file's pickle names the tensors; its values lie beside it. AlexNet's 16 tensors take
# about 2 kB of pickle; 300,000 keys took 5.6 MB of pickle and 153 MB of memory once unpickled, so a
# pickle past this is refused before it is read (issue 24, re-attacked).
MAX_PICKLE_BYTES = 1 << 20
NAME_CHARS = 80  # a key name in a message: a 10 MB name made a 10 MB error line


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in chunks so a 233 MB checkpoint never sits twice in memory."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise WeightsError(f"Could not read the weights file {path}: {exc.strerror or exc}.") from exc
    return digest.hexdigest()


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors in a .pth/.pt or .safetensors file, on the CPU; refuses anything else.

    A raw state dict is accepted, as is a checkpoint dict holding one under "state_dict" or
    "model", with or without DataParallel's "module." prefix.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"No weights file at {path}: give the path of a .pth, .pt or .safetensors "
                           "file, or use 'imagenet' or 'random'.")
    suffix = path.suffix.lower()
    if suffix == SAFETENSORS_SUFFIX:
        raw = _load_safetensors(path)
    elif suffix in TORCH_SUFFIXES:
        raw = _load_torch(path)
    else:
        raise WeightsError(f"{path.name}: weights must be a .pth, .pt or .safetensors file, not "
                           f"{suffix or 'a file without an extension'}.")
    return _tensor_dict(raw, path)


def _load_torch(path: Path) -> object:
    """Tensor-only unpickling; memory-mapped when the file is in torch's zip format (since PyTorch 1.6).

    Mapped tensors read their bytes from the page cache, so N server processes loading one file
    share one copy instead of holding N. The older single-stream format cannot be mapped and is
    read into memory as before.
    """
    zipped = zipfile.is_zipfile(path)
    if zipped:
        _check_pickle_size(path)
    else:
        _check_legacy_pickle_size(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipped)
    except Exception as exc:  # any parse failure of an untrusted file is the user's file's fault
        text = str(exc)
        if "Weights only load failed" in text:
            found = re.search(r"GLOBAL ([\w.]+)", text)
            why = (f"it asks to call {found.group(1)} while loading, which plain weights never need" if found
                   else "it is damaged or uses pickle features that plain weights never need")
            raise WeightsError(
                f"{path.name} was refused: {why}; nothing in it was executed. Save a plain state dict "
                "with torch.save(model.state_dict(), path), or use .safetensors.") from exc
        raise WeightsError(f"{path.name} is not a readable PyTorch weights file (it may be empty, "
                           f"truncated or something else): {type(exc).__name__}.") from exc


def _check_pickle_size(path: Path) -> None:
    """Refuse a zip-format file whose pickle is larger than any network's list of tensors needs."""
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = [i.file_size for i in archive.infolist() if i.filename.endswith("data.pkl")]
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise WeightsError(f"{path.name} is not a readable PyTorch weights file: {type(exc).__name__}.") from exc
    if any(size > MAX_PICKLE_BYTES for size in sizes):
        raise WeightsError(f"{path.name} was refused unread: its list of tensors takes {max(sizes):,} bytes, where "
                           f"a network's weights need a few kB (at most {MAX_PICKLE_BYTES:,} accepted).")


def _check_legacy_pickle_size(path: Path) -> None:
    """The same bound for the older single-stream format: its five pickles (magic number, protocol, system
    info, the tensors' list, the storage keys) come before the values and must end within MAX_PICKLE_BYTES
    (300,000 keys in this format: a 5.6 MB file, 8.6 s and 199 MB to unpickle)."""
    try:
        with open(path, "rb") as fh:
            stream = io.BytesIO(fh.read(MAX_PICKLE_BYTES))
    except OSError as exc:
        raise WeightsError(f"Could not read the weights file {path}: {exc.strerror or exc}.") from exc
    try:
        for _ in range(5):
            for _op in pickletools.genops(stream):  # stops at each pickle's STOP
                pass
    except ValueError as exc:  # not a pickle at all is torch.load's to name; one that does not end in time is ours
        if stream.tell() >= MAX_PICKLE_BYTES:  # it ran out of the window, not of pickle
            raise WeightsError(f"{path.name} was refused unread: its list of tensors takes more than "
                               f"{MAX_PICKLE_BYTES:,} bytes, where a network's weights need a few kB.") from exc


def short_name(key: object) -> str:
    """A key as a message shows it: at most NAME_CHARS characters, so one line stays one readable line."""
    text = key if isinstance(key, str) else type(key).__name__
    return text if len(text) <= NAME_CHARS else f"{text[:NAME_CHARS - 1]}… ({len(text):,} characters)"


def _load_safetensors(path: Path) -> object:
    from safetensors.torch import load_file

    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:  # safetensors raises its own SafetensorError and OSError
        raise WeightsError(f"{path.name} is not a readable safetensors file (it may be empty or "
                           f"truncated): {exc}.") from exc


def _tensor_dict(raw: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(raw, Mapping):
        for key in ("state_dict", "model"):
            if isinstance(raw.get(key), Mapping):
                raw = raw[key]
                break
    if not isinstance(raw, Mapping) or not raw:
        raise WeightsError(f"{path.name} holds no state dict (a mapping of parameter names to "
                           "tensors); save one with torch.save(model.state_dict(), path).")
    bad = [short_name(k) for k, v in raw.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{path.name}: entries that are not named tensors: {', '.join(bad[:5])}; "
                           "a weights file must map parameter names to tensors.")
    state = dict(raw)
    check_tensors(state, path.name)
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _overlapping(size: tuple[int, ...], stride: tuple[int, ...]) -> bool:
    """Whether two indices could reach one element (a zero stride, or dimensions interleaved)."""
    reach = 0  # the largest offset the dimensions taken so far reach
    for step, count in sorted((st, sz) for sz, st in zip(size, stride) if sz > 1):
        if step <= reach:
            return True
        reach += step * (count - 1)
    return False


def _tensor_problem(t: torch.Tensor) -> str | None:
    """What is wrong with a loaded tensor as a network's weights, from its metadata alone; None if nothing."""
    if t.is_nested or t.layout != torch.strided:
        return f"is a {str(t.layout).removeprefix('torch.')} tensor, not a dense one"
    if t.device.type != "cpu":
        return f"is a {t.device.type} tensor: the file holds no values for it"
    if t.dtype not in FLOAT_DTYPES:
        return f"holds {str(t.dtype).removeprefix('torch.')} values, not floating-point weights"
    size, stride, offset = tuple(t.shape), tuple(t.stride()), t.storage_offset()
    if min(stride, default=0) < 0 or offset < 0:
        return f"has a negative stride or offset (strides {stride}, offset {offset})"
    if t.numel() == 0:
        return None
    held = t.untyped_storage().nbytes() // t.element_size()
    reach = offset + sum(st * (sz - 1) for sz, st in zip(size, stride)) + 1
    if t.numel() > held or reach > held or _overlapping(size, stride):
        return (f"claims {t.numel():,} values (shape {size}, strides {stride}, offset {offset}) but the file "
                f"holds {held:,} for it")
    return None


def check_tensors(state: Mapping[str, torch.Tensor], name: str) -> None:
    """Refuse, before a single value is read, tensors that are not dense floating-point arrays each
    backed by its own bytes in the file (so nothing later allocates more than the file holds)."""
    bad = [f"{short_name(k)} {why}" for k, why in ((k, _tensor_problem(v)) for k, v in state.items()) if why]
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise WeightsError(f"{name} was refused before any of its values were read: {'; '.join(bad[:3])}{more}. "
                           "A saved network's weights are dense float tensors, each with its own values; save "
                           "one with torch.save(model.state_dict(), path).")


__all__ = ["sha256_file", "read_state_dict", "check_tensors", "short_name", "TORCH_SUFFIXES", "SAFETENSORS_SUFFIX",
           "FLOAT_DTYPES"]
