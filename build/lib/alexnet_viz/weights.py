"""Weights from three sources (ImageNet, a local file, random) through one loader, with provenance.

torchvision's own pretrained path unpickles the cached file with weights_only=False, so a file
planted in the hub cache would run code. Here the file is fetched to the same place, its SHA-256
is checked against the prefix in its name before anything reads it, and it is loaded tensor-only.
Every model returned carries `model.provenance`, so no page or CLI line can show a random
network's guesses as if they were a trained one's.
"""
from __future__ import annotations

import hashlib
import os
import re
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch

from .embed import embed_state_dict, param_shapes, same_shapes
from .errors import WeightsError
from .model import AlexNet, build_model
from .safeload import read_state_dict, sha256_file
from .spec import VARIANTS, Spec, get_spec

ENV_VAR = "ALEXNET_WEIGHTS"
DOWNLOAD_TIMEOUT_S = 10.0  # seconds without an answer before an offline machine gives up
_CHUNK = 1 << 20
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")


@dataclass(frozen=True)
class Provenance:
    """Where a model's weights came from, for every place that shows its outputs."""

    source: Literal["imagenet", "file", "random"]
    variant: str
    file: str | None
    sha256: str | None
    accuracy: dict | None
    seed: int | None
    note: str

    def describe(self) -> str:
        """One line for people: source, file and hash, reported accuracy, caveats."""
        parts = {"imagenet": ["ImageNet-pretrained weights"], "file": ["Weights from a local file"],
                 "random": ["Random, untrained weights"]}[self.source]
        parts[0] += f" in the {self.variant} network"
        if self.file:
            parts.append(f"file {Path(self.file).name}")
        if self.sha256:
            parts.append(f"SHA-256 {self.sha256[:16]}…")
        if self.accuracy:
            parts.append("reported ImageNet " + ", ".join(f"{k} {v}%" for k, v in self.accuracy.items()))
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)

    def as_dict(self) -> dict:
        return asdict(self)


class Official(NamedTuple):
    """torchvision's ImageNet AlexNet file, as its weights enum describes it."""

    url: str
    filename: str
    sha_prefix: str
    accuracy: dict[str, float]
    name: str


# torchvision's AlexNet_Weights.IMAGENET1K_V1: its url and meta["_metrics"]["ImageNet-1K"], mirrored
# because they live in an enum that cannot be read without importing torchvision (about 150 MiB
# per server process). tests/test_weights.py holds them equal to the enum so they cannot drift.
_TORCHVISION_IMAGENET1K_V1 = {
    "url": "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",
    "accuracy": {"acc@1": 56.522, "acc@5": 79.066},
    "name": "torchvision AlexNet_Weights.IMAGENET1K_V1",
}


def official() -> Official:
    """Address, file name, hash prefix and reported accuracy of torchvision's ImageNet file."""
    url = _TORCHVISION_IMAGENET1K_V1["url"]
    filename = url.rsplit("/", 1)[-1]
    match = _HASH_IN_NAME.search(filename)
    if match is None:  # torchvision names every checkpoint "<name>-<sha256 prefix>.pth"
        raise WeightsError(f"torchvision's file name {filename} carries no hash to check it against.")
    return Official(url, filename, match.group(1), dict(_TORCHVISION_IMAGENET1K_V1["accuracy"]),
                    _TORCHVISION_IMAGENET1K_V1["name"])


def imagenet_path(cache_dir: str | Path | None = None) -> Path:
    """Where the ImageNet file lives: `<torch hub dir>/checkpoints/<name>`, torchvision's own place."""
    hub = Path(cache_dir) if cache_dir is not None else Path(torch.hub.get_dir())
    return hub / "checkpoints" / official().filename


def default_weights(cache_dir: str | Path | None = None) -> str:
    """$ALEXNET_WEIGHTS if set; else "imagenet" when its file is already cached; else "random"."""
    chosen = os.environ.get(ENV_VAR, "").strip()
    if chosen:
        return chosen
    return "imagenet" if imagenet_path(cache_dir).is_file() else "random"


def _supply_hint(path: Path) -> str:
    return (f"Download it elsewhere and copy it to {path}, or point {ENV_VAR}=PATH (--weights PATH on "
            "the command line) at a copy, or use random weights.")


def _fetch(info: Official, dest: Path, progress: bool) -> str:
    """Download to a side file with a progress bar; keep it only if its hash matches. Returns it."""
    from tqdm import tqdm

    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsError(f"Cannot create the weights cache folder {dest.parent} ({exc.strerror or exc}); "
                           f"set TORCH_HOME to a writable folder, or point {ENV_VAR}=PATH at a copy of "
                           f"{dest.name}.") from exc
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.partial")  # two processes never share one
    digest = hashlib.sha256()
    try:
        try:
            with urllib.request.urlopen(info.url, timeout=DOWNLOAD_TIMEOUT_S) as resp, open(partial, "wb") as out:
                total = int(resp.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=dest.name,
                          disable=not progress) as bar:
                    while chunk := resp.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        except (OSError, ValueError) as exc:  # URLError, timeouts and refused connections are OSErrors
            reason = getattr(exc, "reason", None) or exc
            raise WeightsError(f"Could not download the ImageNet weights from {info.url} ({reason}). "
                               + _supply_hint(dest)) from exc
        sha = digest.hexdigest()
        if not sha.startswith(info.sha_prefix):
            raise WeightsError(f"The download from {info.url} has SHA-256 {sha[:16]}…, not {info.sha_prefix}…, "
                               "so it was discarded; try again. " + _supply_hint(dest))
        os.replace(partial, dest)
    finally:  # an interrupted or refused download leaves nothing behind
        partial.unlink(missing_ok=True)
    return sha


def _imagenet_file(cache_dir: str | Path | None, progress: bool) -> tuple[Path, str]:
    """The verified cached file (fetched on first use) and its SHA-256; never reads an unverified one."""
    info = official()
    path = imagenet_path(cache_dir)
    if not path.is_file():
        return path, _fetch(info, path, progress)
    sha = sha256_file(path)
    if not sha.startswith(info.sha_prefix):
        raise WeightsError(f"The cached file {path} has SHA-256 {sha[:16]}…, but its name promises "
                           f"{info.sha_prefix}…: it is damaged, truncated or was replaced, so it was not "
                           "loaded. Delete it to download it again, or supply a good copy there.")
    return path, sha


def _mismatch(state: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]], spec: Spec, name: str) -> str:
    def listing(items: list[str]) -> str:
        return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")

    missing = [f"{k} {shapes[k]}" for k in shapes if k not in state]
    unexpected = [f"{k} {tuple(state[k].shape)}" for k in state if k not in shapes]
    misshaped = [f"{k} (file {tuple(state[k].shape)}, network {shapes[k]})" for k in shapes
                 if k in state and tuple(state[k].shape) != shapes[k]]
    lines = [f"{name} does not fit the {spec.name} network."]
    for label, items in (("Missing", missing), ("Unexpected", unexpected), ("Misshaped", misshaped)):
        if items:
            lines.append(f"{label} keys: {listing(items)}.")
    fits = [v for v in VARIANTS if same_shapes(state, param_shapes(VARIANTS[v]))]
    lines.append(f"It fits the {fits[0]} variant; choose that one." if fits else
                 "Use weights saved from this variant's model.")
    return " ".join(lines)


def _fitted(state: dict[str, torch.Tensor], spec: Spec, name: str) -> tuple[AlexNet, str]:
    """A model holding `state` (embedded first if it is another variant's); note says how."""
    bad = [k for k, v in state.items() if not v.is_floating_point() or not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{name}: {', '.join(bad[:5])} hold non-numeric, infinite or NaN values.")
    state = {k: v.to(torch.float32) for k, v in state.items()}
    note, shapes = "", param_shapes(spec)
    if not same_shapes(state, shapes):
        src = next((s for s in VARIANTS.values() if s != spec and same_shapes(state, param_shapes(s))), None)
        if src is None:
            raise WeightsError(_mismatch(state, shapes, spec, name))
        state = embed_state_dict(state, src, spec)
        note = f"{src.name}-shaped weights embedded with extra channels zero (same logits as {src.name})"
    with torch.device("meta"):
        model = AlexNet(spec)
    model.load_state_dict(state, strict=True, assign=True)
    return model.eval(), note


def _on_device(model: AlexNet, device: str | torch.device | None) -> AlexNet:
    try:
        return model.to(torch.device("cpu") if device is None else torch.device(device))
    except (RuntimeError, AssertionError, ValueError, TypeError) as exc:
        raise WeightsError(f"Cannot put the model on device {device!r} ({exc}); choose cpu, or cuda/mps "
                           "when this machine has one.") from exc


def load_model(variant_or_spec: str | Spec = "article", weights: str | Path = "random", *, seed: int = 0,
               device: str | torch.device | None = None, cache_dir: str | Path | None = None,
               progress: bool = True) -> AlexNet:
    """A model in eval mode on `device` (CPU by default) with weights "imagenet", "random" or a file.

    `seed` matters only for random weights. `cache_dir` replaces the torch hub directory (the
    ImageNet file goes in its checkpoints/).
    Raises WeightsError (or SpecError for an unknown variant) with what to do.
    """
    spec = get_spec(variant_or_spec)
    choice = str(weights).strip()
    if not choice:
        raise WeightsError("No weights chosen: use imagenet, random or the path of a weights file.")
    if choice.lower() == "random":
        model = build_model(spec, seed=seed)
        prov = Provenance("random", spec.name, None, None, None, seed,
                          f"{spec.init_label}: its predictions mean nothing")
    elif choice.lower() == "imagenet":
        info = official()
        path, sha = _imagenet_file(cache_dir, progress)
        model, note = _fitted(read_state_dict(path), spec, path.name)
        prov = Provenance("imagenet", spec.name, str(path), sha, info.accuracy, None,
                          "; ".join(filter(None, [info.name, note])))
    else:
        path = Path(choice).expanduser()
        state = read_state_dict(path)
        model, note = _fitted(state, spec, path.name)
        prov = Provenance("file", spec.name, str(path), sha256_file(path), None, None, note)
    model = _on_device(model, device).eval()
    model.provenance = prov
    return model


__all__ = ["Provenance", "Official", "official", "imagenet_path", "default_weights", "embed_state_dict",
           "load_model", "ENV_VAR", "DOWNLOAD_TIMEOUT_S"]
