"""Reading weight files without trusting them: hashing, tensor-only unpickling, safetensors.

A `.pth` file is a pickle, and a pickle can run any code when loaded. Everything here goes
through `torch.load(..., weights_only=True)`, which refuses objects other than tensors and plain
containers, or through safetensors, which has no code in it at all.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch

from alexnet_viz.errors import WeightsError

TORCH_SUFFIXES = (".pth", ".pt")
SAFETENSORS_SUFFIX = ".safetensors"
_CHUNK = 1 << 20


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
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
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
    bad = [str(k) for k, v in raw.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{path.name}: entries that are not named tensors: {', '.join(bad[:5])}; "
                           "a weights file must map parameter names to tensors.")
    state = dict(raw)
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


__all__ = ["sha256_file", "read_state_dict", "TORCH_SUFFIXES", "SAFETENSORS_SUFFIX"]
