"""`python -m alexnet_viz index FOLDER --out INDEX`: the photos that excite each channel most.

One pass over a folder of images keeps, for every channel of every conv and pooling layer, the
top-k images by the channel's strongest unit and where that unit sits, with its receptive-field
box on the network's view of the image (the ledger's geometry, as alexnet_viz.core.bookkeeping's
`receptive_field` computes it). This is the "dataset examples" half of OpenAI Microscope, for
your own weights and your own photos.

The bookkeeping is a max over each map inside a forward hook and a merge of a few dozen numbers
per channel, so it costs little next to the convolutions (BENCHMARKS.md measures it). Images are
decoded in DataLoader workers as `predict` does, and a file that cannot be read is one line on
stderr, never a crash. Under `torchrun --nproc_per_node=N` each rank indexes every N-th file and
rank 0 gathers the partial top-k lists (gloo) and merges them: ties are broken by file order, so
the merged index equals the one a single process makes.

The result is one compressed .npz (no pickles), opened in milliseconds by the app.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from alexnet_viz.core.bookkeeping import ledger, receptive_field
from alexnet_viz.core.casting import cast_input, dtype_of, twin
from alexnet_viz.core.device import model_device, pick_device
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.provenance import weights_id
from alexnet_viz.core.spec import ARTICLE, Spec
from alexnet_viz.core.weights import default_weights, load_model
from alexnet_viz.core.weightschoice import WeightsChoice
from alexnet_viz.errors import AlexVizError
from alexnet_viz.inputs.imagefiles import ImageFiles, collect, loader

FORMAT = 1
INDEX_ENV = "ALEXNET_INDEX"


class _Done(Exception):
    """Raised after the last indexed layer: the fully connected layers would be wasted work."""


@dataclass(frozen=True)
class LayerTop:
    """Per channel, the top-k images best first (k columns, or fewer when fewer images were read):
    activation of the strongest unit, image number, that unit's (row, col), its receptive-field box."""

    values: np.ndarray  # float32 (C, k)
    images: np.ndarray  # int32 (C, k) into Index.files
    units: np.ndarray  # int16 (C, k, 2): (row, col) of the channel's strongest unit in that image
    boxes: np.ndarray  # int16 (C, k, 4): (x0, y0, x1, y1) inclusive, clipped to the network's view


@dataclass(frozen=True)
class Index:
    """A folder's dataset examples for one network: what `index` writes and the app reads."""

    variant: str
    weights: str  # weights_id of the network that made it
    input_size: int
    k: int
    root: str
    files: tuple[str, ...]  # relative to root; an image's number is its place here
    errors: tuple[tuple[str, str], ...]  # (file, why) for files that could not be read
    layers: dict[str, LayerTop]
    precision: str = "float32"  # what the forward passes ran in (precision.PRECISIONS)

    def top(self, layer: str, channel: int) -> list[tuple[Path, float, tuple[int, int, int, int]]]:
        """(image path, activation, box) of the channel's top images, best first."""
        t = self.layers[layer]
        return [(Path(self.root) / self.files[i], float(v), cast(tuple[int, int, int, int], tuple(int(b) for b in box)))
                for i, v, box in zip(t.images[channel], t.values[channel], t.boxes[channel])]


# --- the running top-k ---------------------------------------------------------------------------

def _merge(values: np.ndarray, images: np.ndarray, units: np.ndarray, k: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep the k best of each row: highest value first, ties to the lower image number."""
    order = np.lexsort((images, -values), axis=1)[:, :k]
    return (np.take_along_axis(values, order, 1), np.take_along_axis(images, order, 1),
            np.take_along_axis(units, order[..., None], 1))


class Tracker:
    """The top-k of every channel of the chosen layers, updated one batch at a time."""

    def __init__(self, channels: dict[str, int], k: int) -> None:
        self.k = k
        self.state = {name: (np.full((c, 0), -np.inf, np.float32), np.zeros((c, 0), np.int32),
                             np.zeros((c, 0, 2), np.int16)) for name, c in channels.items()}

    def update(self, name: str, acts: torch.Tensor, ids: np.ndarray) -> None:
        """Fold in a batch's (B, C, H, W) maps for images `ids`."""
        width = acts.shape[-1]
        peak, where = acts.flatten(2).float().max(dim=2)  # (B, C) each
        vals = peak.T.cpu().numpy()
        flat = where.T.cpu().numpy()
        units = np.stack([flat // width, flat % width], axis=-1).astype(np.int16)
        v, i, u = self.state[name]
        batch_ids = np.broadcast_to(ids.astype(np.int32), vals.shape)
        self.state[name] = _merge(np.concatenate([v, vals], 1), np.concatenate([i, batch_ids], 1),
                                  np.concatenate([u, units], 1), self.k)

    def absorb(self, other: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> None:
        """Merge another tracker's state (another rank's share of the folder)."""
        for name, (v, i, u) in other.items():
            sv, si, su = self.state[name]
            self.state[name] = _merge(np.concatenate([sv, v], 1), np.concatenate([si, i], 1),
                                      np.concatenate([su, u], 1), self.k)


def spatial_layers(model: AlexNet) -> dict[str, int]:
    """Conv and pooling layers with their channel counts: the layers an index covers."""
    book = ledger(model.spec)
    return {r.name: r.out_shape[0] for r in book.rows if r.kind != "fc"}


def index_batches(model: AlexNet, batches, tracker: Tracker, precision: str = "float32") -> None:
    """Run (ids, batch) pairs through a twin of the model, folding every indexed layer into `tracker`.

    Batch work: the twin holds the weights cast once to `precision` with channels_last convolutions
    (bf16 uses the CPU's bf16 units), and each batch is cast to match.
    """
    net = twin(model, precision)
    modules = {name: net.get_submodule(list(net.part_paths(name).values())[-1]) for name in tracker.state}
    last = list(tracker.state)[-1]
    current: list[np.ndarray] = []

    def hook_for(name: str):
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            tracker.update(name, output, current[0])
            if name == last:
                raise _Done

        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in modules.items()]
    device = model_device(model)
    try:
        with torch.inference_mode():
            for ids, batch in batches:
                current[:] = [np.asarray(ids)]
                try:
                    net(cast_input(batch.to(device), precision))
                except _Done:
                    pass
    finally:
        for handle in handles:
            handle.remove()


def _boxes(model: AlexNet, name: str, units: np.ndarray) -> np.ndarray:
    """Clipped receptive-field boxes for (..., 2) units, from the ledger's geometry for unit (0, 0)."""
    first = receptive_field(model.spec, name, 0, 0)
    start, half, size = first.centre[0], (first.rf - 1) / 2, model.spec.input_size
    centre = start + units.astype(np.float64) * first.jump  # (row, col) -> (cy, cx)
    lo = np.floor(centre - half).astype(np.int64)
    hi = lo + first.rf - 1
    y0, x0 = lo[..., 0], lo[..., 1]
    y1, x1 = hi[..., 0], hi[..., 1]
    return np.stack([x0.clip(0), y0.clip(0), x1.clip(max=size - 1), y1.clip(max=size - 1)], -1).astype(np.int16)


# --- the command -------------------------------------------------------------------------------

def _distributed() -> tuple[int, int]:
    """(rank, world size), starting the process group when torchrun launched several processes."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world < 2:
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")  # CPU collectives; the gathered lists are small
    return dist.get_rank(), dist.get_world_size()


def build_index(folder: str | Path, *, spec: Spec = ARTICLE, weights: WeightsChoice | None = None,
                device: str | None = None, k: int = 16, batch_size: int = 32, workers: int | None = None,
                precision: str = "float32") -> Index | None:
    """Index every image under `folder`; under torchrun, rank 0 returns the merged index, others None.

    No `weights`: default_weights() ($ALEXNET_WEIGHTS, else ImageNet's when cached, else random).
    """
    if k < 1 or batch_size < 1 or (workers is not None and workers < 0):
        raise AlexVizError("--top-k and --batch-size must be at least 1, --workers at least 0.")
    dtype_of(precision)  # an unknown name fails before any file is read
    root = Path(folder)
    if not root.is_dir():
        raise AlexVizError(f"{folder} is not a folder; index takes a folder of images.")
    # Every rank lists the same folder, so an empty one stops them all with the same message,
    # before any of them joins the process group and waits there for the others.
    entries = collect([str(root)])
    files = [path for path, error in entries if error is None]
    errors = [(path, error) for path, error in entries if error is not None]
    if not files:
        raise AlexVizError(f"No images found under {folder}.")
    rank, world = _distributed()
    dev = pick_device(device)
    if world > 1 and dev.type == "cuda" and dev.index is None:  # one GPU per process on a multi-GPU node
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    model = load_model(spec, weights or default_weights(), device=dev, progress=rank == 0)
    mine = list(range(rank, len(files), world))
    tracker = Tracker(spatial_layers(model), k)
    dataset = ImageFiles([files[i] for i in mine], model.spec)
    n_workers = min(2, os.cpu_count() or 1) if workers is None else workers
    own_errors: list[tuple[str, str]] = []

    def batches():
        with tqdm(total=len(mine), unit="img", file=sys.stderr, disable=None if rank == 0 else True) as bar:
            for local, batch, failed in loader(dataset, batch_size, n_workers):
                for i, error in failed:
                    own_errors.append((files[mine[i]], error))
                    print(f"{files[mine[i]]}: {error}", file=sys.stderr)
                if batch is not None:
                    yield np.asarray([mine[i] for i in local]), batch
                bar.update(len(local) + len(failed))

    if mine:
        index_batches(model, batches(), tracker, precision)
    if world > 1:
        import torch.distributed as dist

        parts: list | None = [None] * world if rank == 0 else None
        dist.gather_object((tracker.state, own_errors), parts, dst=0)
        if rank != 0:
            return None
        tracker = Tracker(spatial_layers(model), k)
        own_errors = []
        for state, errs in cast(list, parts):
            tracker.absorb(state)
            own_errors += errs
    errors += sorted(own_errors)
    layers = {name: LayerTop(values=v, images=i, units=u, boxes=_boxes(model, name, u))
              for name, (v, i, u) in tracker.state.items()}
    return Index(variant=model.spec.name, weights=weights_id(model), input_size=model.spec.input_size, k=k,
                 root=str(root.resolve()), files=tuple(os.path.relpath(f, root) for f in files),
                 errors=tuple((os.path.relpath(p, root), e) for p, e in errors), layers=layers, precision=precision)


def _out_path(out: str | Path) -> Path:
    path = Path(out)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def check_writable(out: str | Path) -> None:
    """Refuse an --out that cannot be written before the folder is read (50,000 images take a while)."""
    parent = _out_path(out).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlexVizError(f"Cannot write {_out_path(out)} ({exc.strerror or exc}); choose a writable --out path.") \
            from exc
    if not os.access(parent, os.W_OK):
        raise AlexVizError(f"Cannot write into {parent}; choose a writable --out path.")


def save_index(index: Index, out: str | Path) -> Path:
    """Write the index as one compressed .npz (plain arrays; JSON for the header)."""
    path = _out_path(out)
    header = {"format": FORMAT, "variant": index.variant, "weights": index.weights, "input_size": index.input_size,
              "k": index.k, "root": index.root, "layers": list(index.layers), "precision": index.precision}
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(header)),
                                     "files": np.array(index.files, dtype=str),
                                     "errors": np.array(index.errors, dtype=str).reshape(-1, 2)}
    for name, top in index.layers.items():
        for field in ("values", "images", "units", "boxes"):
            arrays[f"{name}.{field}"] = getattr(top, field)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
    except OSError as exc:
        raise AlexVizError(f"Cannot write {path} ({exc.strerror or exc}); choose a writable --out path.") from exc
    return path


def load_index(path: str | Path) -> Index:
    """Read an index written by `save_index`; AlexVizError for a file that is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            if header.get("format") != FORMAT:
                raise AlexVizError(f"{path} is an index of another format; rebuild it with this version.")
            layers = {name: LayerTop(*(data[f"{name}.{f}"] for f in ("values", "images", "units", "boxes")))
                      for name in header["layers"]}
            return Index(variant=header["variant"], weights=header["weights"], input_size=header["input_size"],
                         k=header["k"], root=header["root"], files=tuple(str(f) for f in data["files"]),
                         errors=tuple((str(a), str(b)) for a, b in data["errors"]), layers=layers,
                         precision=str(header.get("precision", "float32")))
    except (OSError, KeyError, ValueError) as exc:
        if isinstance(exc, AlexVizError):
            raise
        raise AlexVizError(f"{path} is not a readable index ({exc}); rebuild it with `alexnet_viz index`.") from exc


def offered() -> list[Path]:
    """The index files whoever runs the server offers: $ALEXNET_INDEX, paths separated by os.pathsep."""
    return [Path(p) for p in os.environ.get(INDEX_ENV, "").split(os.pathsep) if p.strip()]


__all__ = ["INDEX_ENV", "Index", "LayerTop", "Tracker", "build_index", "index_batches", "load_index", "offered",
           "check_writable", "save_index", "spatial_layers"]
