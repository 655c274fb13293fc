"""The architecture lab's model: a spec as editable table rows, edits back to a spec, per-row errors.

An invalid edit must not take the whole table down: `evaluate` reports the error on the row
that caused it, keeps that row's last valid values (the network shown before the edit), and
computes the ledger for the rest.
"""
from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass, replace
from typing import cast

from alexnet_viz.core.bookkeeping import Ledger, ledger, min_input_size
from alexnet_viz.core.spec import LayerKind, LayerSpec, Spec
from alexnet_viz.errors import SpecError

COLUMNS: tuple[str, ...] = ("layer", "kind", "channels", "kernel", "stride", "padding", "groups")
POOL_KINDS: tuple[str, ...] = ("maxpool", "avgpool")
KIND_LABELS = {"conv": "convolution", "maxpool": "max pool", "avgpool": "average pool", "fc": "fully connected"}
MAX_VERIFY_PARAMS = 300_000_000  # building more than this on a shared CPU would take the app down
# What one "Verify with PyTorch" may cost, set by whoever runs the server. Parameters alone do not
# bound it: 61 M parameters at input 2048 with C1 stride 1 needed 25 GiB of activations and 2.6 T
# multiply-adds. The defaults are ~900x and ~28x the stock torchvision network at 224.
VERIFY_MAX_ACTIVATION_BYTES = int(os.environ.get("ALEXNET_VERIFY_MAX_ACTIVATION_MB", "2048")) * 2**20
VERIFY_MAX_MACS = int(float(os.environ.get("ALEXNET_VERIFY_MAX_GMACS", "20")) * 1e9)
_VERIFY_SLOT = threading.Lock()  # one verification at a time per process, so budgets do not add up
VERIFY_WAIT_S = 30.0


def spec_rows(spec: Spec) -> list[dict]:
    """One record per layer; fields that do not apply to the layer's kind are None."""
    rows = []
    for layer in spec.layers:
        row: dict = {**dict.fromkeys(COLUMNS), "layer": layer.name, "kind": layer.kind}
        if layer.kind != "fc":
            row.update(kernel=layer.kernel, stride=layer.stride, padding=layer.padding)
        if layer.kind in ("conv", "fc"):
            row["channels"] = layer.out
        if layer.kind == "conv":
            row["groups"] = layer.groups
        rows.append(row)
    return rows


def _whole(layer: str, field: str, value: object) -> int:
    """A table cell as an int; data editors hand back floats, strings or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        raise SpecError(f"{layer}: {field} is empty; type a whole number.", layer)
    if not isinstance(value, (int, float, str)):
        raise SpecError(f"{layer}: {field} must be a whole number, not {value!r}.", layer)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SpecError(f"{layer}: {field} must be a whole number, not {value!r}.", layer) from None
    if not number.is_integer():
        raise SpecError(f"{layer}: {field} must be a whole number, not {value!r}.", layer)
    return int(number)


def apply_row(layer: LayerSpec, row: dict) -> LayerSpec:
    """The layer with the row's edits; raises SpecError naming the layer for a bad cell.

    Pools may switch between max and average; convolutions and fully connected layers keep their
    kind (the numbering C/S/F says what each layer is).
    """
    kind = row.get("kind") or layer.kind
    allowed = POOL_KINDS if layer.kind in POOL_KINDS else (layer.kind,)
    if kind not in allowed:
        raise SpecError(f"{layer.name}: a {KIND_LABELS.get(layer.kind, layer.kind)} layer cannot become {kind!r}; "
                        f"choose {' or '.join(allowed)}.", layer.name)
    if kind == "fc":
        return replace(layer, out=_whole(layer.name, "features", row.get("channels")))
    edited = replace(layer, kind=cast(LayerKind, kind), kernel=_whole(layer.name, "kernel", row.get("kernel")),
                     stride=_whole(layer.name, "stride", row.get("stride")),
                     padding=_whole(layer.name, "padding", row.get("padding")))
    if kind == "conv":
        edited = replace(edited, out=_whole(layer.name, "channels", row.get("channels")),
                         groups=_whole(layer.name, "groups", row.get("groups")))
    return edited


@dataclass(frozen=True)
class LabResult:
    """What the lab shows: the spec actually used, its ledger, and the errors by row."""

    spec: Spec
    ledger: Ledger
    errors: dict[str, str]  # layer name (or "input") -> the library's message
    input_size: int


def evaluate(base: Spec, rows: list[dict], input_size: object, last: Spec | None = None) -> LabResult:
    """Apply table edits to `base`; a row whose edit is invalid keeps its last valid values and gets an error.

    `last` is the network the lab showed before this edit (its spec and input size); without it the
    last valid values are `base`'s. Falling back to `base` would throw an earlier valid edit away
    while the table still shows it.
    """
    keep = base if last is None else last
    errors: dict[str, str] = {}
    try:
        size = _whole("input", "input size", input_size)
    except SpecError as exc:
        errors["input"], size = str(exc), keep.input_size
    by_name = {r.get("layer"): r for r in rows}
    layers = []
    for layer in base.layers:
        if layer.name not in by_name:  # a row the table did not send back is unchanged
            layers.append(layer)
            continue
        try:
            layers.append(apply_row(layer, by_name[layer.name]))
        except SpecError as exc:
            errors[layer.name] = str(exc)
            layers.append(keep.layer(layer.name))
    spec = replace(base, layers=tuple(layers))
    need = min_input_size(spec)
    if size != keep.input_size and size < need <= keep.input_size:  # the edited size is what no longer fits
        errors["input"] = f"input: {size}x{size} is too small for these layers; use at least {need}x{need}."
        size = keep.input_size
    for _ in range(len(base.layers) + 2):
        try:
            return LabResult(replace(spec, input_size=size), ledger(spec, size), errors, size)
        except SpecError as exc:
            if exc.layer in base.names and exc.layer not in errors:
                errors[exc.layer] = str(exc)
                spec = spec.with_layer(exc.layer, **_fields(keep.layer(exc.layer)))
            else:
                errors.setdefault(exc.layer if exc.layer in base.names else "input", str(exc))
                spec, size = keep, keep.input_size
    raise SpecError("The edits could not be reconciled; pick a preset again.")


def _fields(layer: LayerSpec) -> dict:
    return {f: getattr(layer, f) for f in ("kind", "out", "kernel", "stride", "padding", "groups")}


def check_verify_budget(book: Ledger) -> None:
    """Refuse, from the ledger alone, a verification that would cost more than the server allows."""
    if book.total_params > MAX_VERIFY_PARAMS:
        raise SpecError(f"The edited network has {book.total_params:,} parameters; verifying builds it in memory, "
                        f"so keep it under {MAX_VERIFY_PARAMS:,}.")
    if book.total_activation_bytes > VERIFY_MAX_ACTIVATION_BYTES:
        raise SpecError(f"The edited network needs {book.total_activation_bytes / 2**30:,.2f} GiB of activations "
                        f"for one image; this server verifies networks up to "
                        f"{VERIFY_MAX_ACTIVATION_BYTES / 2**30:,.2f} GiB. Use a smaller input, fewer channels or "
                        "larger strides; the ledger above is exact without verifying.")
    if book.total_macs_with_bias > VERIFY_MAX_MACS:
        raise SpecError(f"The edited network needs {book.total_macs_with_bias / 1e9:,.1f} G multiply-adds for one "
                        f"image; this server verifies networks up to {VERIFY_MAX_MACS / 1e9:,.0f} G. Use a smaller "
                        "input, fewer channels or larger strides; the ledger above is exact without verifying.")


def verify_with_torch(spec: Spec, input_size: int | None = None) -> list[dict]:
    """Build the spec as a real PyTorch model and let torchinfo count each layer's params and MACs.

    Returns one record per layer with the ledger's numbers beside torchinfo's (MACs include the
    bias add, as torchinfo counts them) and a last record with the totals. A network over the
    server's budget is refused before anything is built; a build or forward that fails anyway
    (out of memory) is a SpecError, never a crash of the page.
    """
    import torch
    from torchinfo import summary

    from alexnet_viz.core.model import build_model

    size = spec.input_size if input_size is None else input_size
    book = ledger(spec, size)
    check_verify_budget(book)
    if not _VERIFY_SLOT.acquire(timeout=VERIFY_WAIT_S):
        raise SpecError("Another visitor's network is being verified right now; try again in a moment.")
    try:
        model = build_model(replace(spec, input_size=size), seed=0)
        with torch.no_grad():
            stats = summary(model, input_size=(1, spec.in_channels, size, size), device="cpu", verbose=0)
    except (RuntimeError, MemoryError) as exc:  # torch's allocation failures are RuntimeErrors
        raise SpecError(f"PyTorch could not build or run this network here ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0][:160] if str(exc) else 'no details'}). Make it smaller "
                        "(fewer channels, a larger stride or a smaller input) and verify again.") from exc
    finally:
        _VERIFY_SLOT.release()
    owner = {id(model.layer(name)): name for name in model.layer_names}
    params: dict[str, int] = {}
    macs: dict[str, int] = {}
    for info in stats.summary_list:
        name = owner.get(id(info.module))
        if name is not None:
            params[name] = params.get(name, 0) + info.num_params
            macs[name] = macs.get(name, 0) + info.macs
    records = []
    for row in book.rows:
        p, m = params.get(row.name, 0), macs.get(row.name, 0)
        records.append({"layer": row.name, "ledger params": row.params, "torchinfo params": p,
                        "ledger MACs": row.macs_with_bias, "torchinfo MACs": m,
                        "agree": p == row.params and m == row.macs_with_bias})
    records.append({"layer": "total", "ledger params": book.total_params, "torchinfo params": stats.total_params,
                    "ledger MACs": book.total_macs_with_bias, "torchinfo MACs": stats.total_mult_adds,
                    "agree": stats.total_params == book.total_params
                    and stats.total_mult_adds == book.total_macs_with_bias})
    return records
