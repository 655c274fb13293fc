"""Weights from three sources (ImageNet, a local file, random) through one loader, with provenance.

torchvision's own pretrained path unpickles the cached file with weights_only=False, so a file
planted in the hub cache would run code. Here the file is fetched to the same place (one download
per process however many sessions ask, see download.py), its SHA-256 is checked before anything
reads it, and it is loaded tensor-only. What the file is (address, hash, preprocessing, classes,
scores) lives in one object, pretrained.IMAGENET1K_V1. Every model returned carries
`model.provenance`, so no page or CLI line can show a random network's guesses as a trained one's.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from alexnet_viz.core import download
from alexnet_viz.core.embed import embed_state_dict, param_shapes, same_shapes
from alexnet_viz.core.model import AlexNet, build_model
from alexnet_viz.core.pretrained import hash_in_name, imagenet_weights
from alexnet_viz.core.provenance import Provenance
from alexnet_viz.core.safeload import read_state_dict, sha256_file, short_name
from alexnet_viz.core.spec import VARIANTS, Spec, get_spec
from alexnet_viz.core.weightschoice import ENV_VAR, IMAGENET, RANDOM, WeightsChoice, parse_weights, weights_from_env
from alexnet_viz.errors import DownloadError, WeightsError

DOWNLOAD_TIMEOUT_S = download.DEFAULT_TIMEOUT_S
DOWNLOAD_DEADLINE_S = download.DEFAULT_DEADLINE_S


def imagenet_path(cache_dir: str | Path | None = None) -> Path:
    """Where the ImageNet file lives: `<torch hub dir>/checkpoints/<name>`, torchvision's own place."""
    return imagenet_weights().cache_path(cache_dir)


def default_weights(cache_dir: str | Path | None = None) -> WeightsChoice:
    """For the command line: $ALEXNET_WEIGHTS if set; else ImageNet's when its file is cached; else random.

    The app instead defaults to ImageNet's and downloads them (ui/state.py).
    """
    return weights_from_env() or (IMAGENET if imagenet_path(cache_dir).is_file() else RANDOM)


def supply_hint(path: Path) -> str:
    """How whoever runs the server gets the file there without this process's download."""
    return (f"Run `python -m alexnet_viz weights download` where the internet is reachable and copy the file to "
            f"{path}, or point {ENV_VAR}=PATH (--weights PATH on the command line) at a copy, or use random "
            "weights.")


def imagenet_downloader(cache_dir: str | Path | None = None) -> download.Downloader:
    """This process's one download of the ImageNet file into `cache_dir`: progress for every session."""
    info = imagenet_weights()
    limits = download.Limits(DOWNLOAD_TIMEOUT_S, DOWNLOAD_DEADLINE_S, info.size_bytes or download.DEFAULT_MAX_BYTES)
    return download.downloader(info.url, info.cache_path(cache_dir), info.accepts, limits=limits)


def fetch_imagenet(cache_dir: str | Path | None = None, *, progress: bool = True,
                   retry: bool = False) -> tuple[Path, str]:
    """The verified ImageNet file, downloaded on first use, and its SHA-256; never reads an unverified one.

    `progress` draws a tqdm bar on stderr; `retry` tries again after this process's download failed
    (otherwise the failure is remembered, so a page does not start a 233 MB download on every rerun).
    """
    info = imagenet_weights()
    path = info.cache_path(cache_dir)
    if path.is_file():
        sha = sha256_file(path)
        if not info.accepts(sha):
            raise WeightsError(f"The cached file {path} has SHA-256 {sha[:16]}…, but it should be "
                               f"{(info.sha256 or info.sha_prefix)[:16]}…: it is damaged, truncated or was "
                               "replaced, so it was not loaded. Delete it to download it again, or supply a good "
                               "copy there.")
        return path, sha
    fetcher = imagenet_downloader(cache_dir)
    try:
        sha = _follow(fetcher, retry) if progress else fetcher.result(retry=retry)
    except DownloadError as exc:
        raise DownloadError(f"Could not get the ImageNet weights: {exc} {supply_hint(path)}", exc.reason) from exc
    return path, sha


def _follow(fetcher: download.Downloader, retry: bool) -> str:
    """Wait for the download with a tqdm bar fed from its published progress."""
    from tqdm import tqdm

    fetcher.start(retry=retry)
    with tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, desc=fetcher.dest.name) as bar:
        while True:
            now = fetcher.wait(0.25)
            if now.total and bar.total != now.total:
                bar.total = now.total
            bar.update(max(0, now.done - bar.n))
            if now.state in ("done", "failed"):
                break
    return fetcher.result()


@dataclass(frozen=True)
class Verdict:
    """A weights file's SHA-256 against what it should be (None: nothing known to compare with)."""

    path: Path
    sha256: str
    expected: str | None
    ok: bool | None


def verify_file(path: str | Path | None = None) -> Verdict:
    """Hash a weights file (default: the cached ImageNet file) and compare it with its name's promise."""
    info = imagenet_weights()
    target = Path(path).expanduser() if path is not None else info.cache_path()
    if not target.is_file():
        raise WeightsError(f"No file at {target}: give a weights file's path, or run "
                           "`python -m alexnet_viz weights download` first.")
    sha = sha256_file(target)
    if target.name == info.filename:
        return Verdict(target, sha, info.sha256 or info.sha_prefix, info.accepts(sha))
    prefix = hash_in_name(target.name)
    return Verdict(target, sha, prefix, None if prefix is None else sha.startswith(prefix))


def _mismatch(state: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]], spec: Spec, name: str) -> str:
    def listing(items: list[str]) -> str:
        return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")

    missing = [f"{k} {shapes[k]}" for k in shapes if k not in state]
    unexpected = [f"{short_name(k)} {tuple(state[k].shape)}" for k in state if k not in shapes]
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
    """A model holding `state` (embedded first if it is another variant's); note says how.

    Shapes are compared before any value is read (safeload has checked each tensor's storage).
    """
    note, shapes, src = "", param_shapes(spec), None
    if not same_shapes(state, shapes):
        src = next((s for s in VARIANTS.values() if s != spec and same_shapes(state, param_shapes(s))), None)
        if src is None:
            raise WeightsError(_mismatch(state, shapes, spec, name))
    bad = [k for k, v in state.items() if not v.is_floating_point() or not torch.isfinite(v).all()]
    if bad:
        raise WeightsError(f"{name}: {', '.join(bad[:5])} hold non-numeric, infinite or NaN values.")
    state = {k: v.to(torch.float32) for k, v in state.items()}
    if src is not None:
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


def load_model(variant_or_spec: str | Spec = "article", weights: WeightsChoice | str | Path = RANDOM, *,
               seed: int = 0, device: str | torch.device | None = None, cache_dir: str | Path | None = None,
               progress: bool = True) -> AlexNet:
    """A model in eval mode on `device` (CPU by default) with weights IMAGENET, RANDOM or a file.

    Text ("imagenet", "random" or a path) goes through parse_weights, as the CLI's --weights does.
    `seed` matters only for random weights. `cache_dir` replaces the torch hub directory (the
    ImageNet file goes in its checkpoints/).
    Raises WeightsError (or SpecError for an unknown variant) with what to do.
    """
    spec = get_spec(variant_or_spec)
    choice = weights if isinstance(weights, WeightsChoice) else parse_weights(str(weights))
    if choice.kind == "random":
        model = build_model(spec, seed=seed)
        prov = Provenance("random", spec.name, None, None, None, seed,
                          f"{spec.init_label}: its predictions mean nothing")
    elif choice.kind == "imagenet":
        info = imagenet_weights()
        path, sha = fetch_imagenet(cache_dir, progress=progress)
        model, note = _fitted(read_state_dict(path), spec, path.name)
        prov = Provenance("imagenet", spec.name, str(path), sha, info.metrics, None,
                          "; ".join(filter(None, [info.source, note])))
    else:
        file = choice.path
        assert file is not None  # a file choice always has its path (WeightsChoice.__post_init__)
        model, note = _fitted(read_state_dict(file), spec, file.name)
        prov = Provenance("file", spec.name, str(file), sha256_file(file), None, None, note)
    model = _on_device(model, device).eval()
    model.provenance = prov
    return model


__all__ = ["Verdict", "imagenet_path", "default_weights", "imagenet_downloader", "fetch_imagenet",
           "verify_file", "supply_hint", "embed_state_dict", "load_model", "ENV_VAR", "DOWNLOAD_TIMEOUT_S"]
