"""Analytic bookkeeping of a spec: shapes, parameters, MACs, memory and receptive fields.

The module is `bookkeeping`, not `ledger`, so that the package's `alexnet_viz.ledger` (the function
that makes a Ledger) never shadows a module and `mock.patch("alexnet_viz.core.bookkeeping.x")` works.
Pure integer arithmetic (no torch) so it can be recomputed on every keystroke, and so that the
model, torchinfo and a forward pass can all be checked against it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from math import gcd
from typing import TypeGuard

from alexnet_viz.core.names import paper_names, torch_names
from alexnet_viz.core.spec import LAYER_KINDS, LayerSpec, Spec, get_spec
from alexnet_viz.errors import SpecError

MAX_VALUE = 100_000  # largest integer a field may hold: keeps every count exact and printable
BYTES_PER_FLOAT32 = 4


@dataclass(frozen=True, slots=True)
class Row:
    """One layer's numbers. Shapes are (C, H, W) for feature maps, (N,) for vectors."""

    name: str  # the article's name (C1 .. F11 for the presets): the spec's own
    paper_name: str  # the paper's numbering, conv1 .. fc8 (names.paper_names)
    torch_name: str  # the weighted or pooling module's path in the PyTorch model, features.0 .. classifier.6
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    kernel: int
    stride: int
    padding: int
    groups: int
    size_exact: float | None  # (H - K + 2P) / S + 1 before the floor; None for fc
    adaptive: int | None  # the adaptive pool's output side, when the layer has one
    weight_params: int
    bias_params: int
    params: int
    cumulative_params: int
    macs_without_bias: int  # multiply-accumulates of the weights only
    macs_with_bias: int  # plus one add per output for the bias (torchinfo's count)
    activations: int  # elements of the layer's output
    activation_bytes: int  # float32
    rf: int  # receptive field of one output unit, in input pixels
    jump: int  # input pixels between neighbouring output units
    start: float  # input-pixel centre of output unit 0 (may lie in the padding); unit j's is start + j * jump

    def as_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(d.pop("in_shape"))
        d["output_shape"] = list(d.pop("out_shape"))
        return d


@dataclass(frozen=True, slots=True)
class Ledger:
    """All rows plus totals for one spec at one input size."""

    spec: Spec
    input_size: int
    rows: tuple[Row, ...]
    total_params: int
    total_macs_with_bias: int
    total_macs_without_bias: int
    total_activations: int
    total_activation_bytes: int
    min_input_size: int

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_json_dict(self) -> dict:
        """The CLI's JSON object; `macs` follows torchinfo and counts bias adds."""
        layers = []
        for r in self.rows:
            d = r.as_dict()
            d["macs"] = r.macs_with_bias
            layers.append(d)
        return {
            "variant": self.spec.name,
            "input_size": self.input_size,
            "layers": layers,
            "total_params": self.total_params,
            "total_macs": self.total_macs_with_bias,
            "total_macs_without_bias": self.total_macs_without_bias,
            "total_activations": self.total_activations,
            "total_activation_bytes": self.total_activation_bytes,
            "min_input_size": self.min_input_size,
        }


def conv_out(size: int, kernel: int, stride: int, padding: int) -> tuple[int, float]:
    """Floor output size (PyTorch's rule) and the unrounded value it comes from."""
    num = size - kernel + 2 * padding
    return num // stride + 1, num / stride + 1


def ceil_out(size: int, kernel: int, stride: int, padding: int) -> int:
    """The side the article's ceiling formula gives, to set beside PyTorch's floor."""
    return -(-(size - kernel + 2 * padding) // stride) + 1


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_int(layer: str, field: str, value: object, low: int) -> None:
    if not _is_int(value):
        raise SpecError(f"{layer}: {field} must be a whole number, not {value!r}.", layer)
    if value < low:
        raise SpecError(f"{layer}: {field} is {value}; it must be at least {low}.", layer)
    if value > MAX_VALUE:
        raise SpecError(f"{layer}: {field} is {value}; keep it at most {MAX_VALUE:,}.", layer)


def _divisors(n: int, limit: int = 8) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0][:limit]


def _validate_layer(layer: LayerSpec, in_channels: int, seen_fc: bool) -> None:
    name = layer.name
    if layer.kind not in LAYER_KINDS:
        raise SpecError(f"{name}: kind {layer.kind!r} is unknown; use one of {', '.join(LAYER_KINDS)}.", name)
    if layer.kind != "fc" and seen_fc:
        raise SpecError(f"{name}: a {layer.kind} layer cannot follow a fully connected layer; "
                        "move it before the first fc layer.", name)
    if not 0.0 <= float(layer.dropout) < 1.0:
        raise SpecError(f"{name}: dropout {layer.dropout} must be in [0, 1).", name)
    if layer.kind == "fc":
        _check_int(name, "features", layer.out, 1)
        return
    _check_int(name, "kernel", layer.kernel, 1)
    _check_int(name, "stride", layer.stride, 1)
    _check_int(name, "padding", layer.padding, 0)
    if layer.kind == "conv":
        _check_int(name, "channels", layer.out, 1)
        _check_int(name, "groups", layer.groups, 1)
        for what, ch in (("input", in_channels), ("output", layer.out)):
            if ch % layer.groups:
                ok = ", ".join(map(str, _divisors(gcd(in_channels, layer.out))))
                raise SpecError(f"{name}: {ch} {what} channels do not divide into {layer.groups} groups; "
                                f"use a group count that divides both {in_channels} and {layer.out} "
                                f"(such as {ok}) or change the channels.", name)
        if layer.lrn is not None:
            _check_int(name, "LRN size", layer.lrn.size, 1)
            _check_int(name, "LRN groups", layer.lrn.groups, 1)
            if layer.out % layer.lrn.groups:
                raise SpecError(f"{name}: {layer.out} channels do not split into the LRN's {layer.lrn.groups} "
                                f"GPU blocks; use a channel count divisible by {layer.lrn.groups}.", name)
    else:
        if 2 * layer.padding > layer.kernel:
            raise SpecError(f"{name}: pooling padding {layer.padding} is more than half the "
                            f"{layer.kernel}x{layer.kernel} window; use padding at most "
                            f"{layer.kernel // 2}.", name)
        if layer.adaptive is not None:
            _check_int(name, "adaptive pool size", layer.adaptive, 1)


def min_input_size(spec: Spec) -> int:
    """Smallest square input for which every spatial layer has at least a 1x1 output."""
    need = 1
    for layer in reversed(spec.layers):
        if layer.kind == "fc":
            continue
        need = max(1, (need - 1) * layer.stride + layer.kernel - 2 * layer.padding)
    return need


def adaptive_geometry(size: int, out: int) -> tuple[int, int]:
    """Largest bin and smallest step of PyTorch's adaptive pooling, for the receptive field."""
    starts = [(i * size) // out for i in range(out)]
    ends = [-((-(i + 1) * size) // out) for i in range(out)]
    kernel = max(e - s for s, e in zip(starts, ends))
    step = min((b - a for a, b in zip(starts, starts[1:])), default=1)
    return kernel, max(step, 1)


@dataclass(frozen=True, slots=True)
class _Walk:
    """Where the walk through the layers stands: the map and one unit's view of the input."""

    c: int
    h: int
    rf: int = 1
    jump: int = 1
    start: float = 0.0


def _spatial_row(layer: LayerSpec, at: _Walk, input_size: int, spec: Spec) -> tuple[Row, _Walk]:
    name, c, h = layer.name, at.c, at.h
    out_h, exact = conv_out(h, layer.kernel, layer.stride, layer.padding)
    if out_h < 1:
        smallest = min_input_size(spec)
        raise SpecError(
            f"{name}: its {h}x{h} input is too small for a {layer.kernel}x{layer.kernel} window with "
            f"stride {layer.stride} and padding {layer.padding} (({h} - {layer.kernel} + 2*{layer.padding})"
            f"/{layer.stride} + 1 = {exact:.2f}, below 1); use an input of at least "
            f"{smallest}x{smallest} (now {input_size}) or a smaller kernel.", name)
    # a window of k pixels centred (k - 1) / 2 - padding input steps after the previous unit 0
    rf = at.rf + (layer.kernel - 1) * at.jump
    start = at.start + ((layer.kernel - 1) / 2 - layer.padding) * at.jump
    jump = at.jump * layer.stride
    if layer.kind == "conv":
        out_c = layer.out
        weight = out_c * (c // layer.groups) * layer.kernel * layer.kernel
        bias = out_c
    else:
        out_c, weight, bias = c, 0, 0
    if layer.adaptive is not None:
        k, step = adaptive_geometry(out_h, layer.adaptive)  # its largest bin and smallest step
        rf = rf + (k - 1) * jump
        start = start + (k - 1) / 2 * jump
        jump = jump * step
        out_h = layer.adaptive
    n_out = out_c * out_h * out_h
    per_out = weight // out_c if weight else 0
    row = Row(name=name, paper_name="", torch_name="", kind=layer.kind, in_shape=(c, h, h),
              out_shape=(out_c, out_h, out_h), kernel=layer.kernel, stride=layer.stride, padding=layer.padding,
              groups=layer.groups if layer.kind == "conv" else 1, size_exact=exact,
              adaptive=layer.adaptive, weight_params=weight, bias_params=bias, params=weight + bias,
              cumulative_params=0, macs_without_bias=per_out * n_out if weight else 0,
              macs_with_bias=(per_out + 1) * n_out if weight else 0, activations=n_out,
              activation_bytes=n_out * BYTES_PER_FLOAT32, rf=rf, jump=jump, start=start)
    return row, _Walk(out_c, out_h, rf, jump, start)


def ledger(variant_or_spec: str | Spec, input_size: int | None = None) -> Ledger:
    """Every layer's numbers for a variant name or any spec; `input_size` defaults to the spec's.

    Raises SpecError (a ValueError) naming the layer and a fix for anything that cannot be built.
    """
    spec = get_spec(variant_or_spec)
    size = spec.input_size if input_size is None else input_size
    _check_int("input", "input size", size, 1)
    _check_int("input", "input channels", spec.in_channels, 1)
    if not spec.layers:
        raise SpecError("The network has no layers; start from one of the presets.")
    names = [l.name for l in spec.layers]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SpecError(f"{dupes[0]}: the name is used twice; give every layer its own name.", dupes[0])

    rows: list[Row] = []
    at = _Walk(spec.in_channels, size)
    features: int | None = None  # set once the first fc flattens the maps
    total = 0
    seen_fc = False
    paper, torch_paths = paper_names(spec), torch_names(spec)
    for layer in spec.layers:
        in_ch = at.c if features is None else features
        _validate_layer(layer, in_ch, seen_fc)
        if layer.kind == "fc":
            seen_fc = True
            if features is None:  # the first fc sees the whole map: its centre, all of it
                features = at.c * at.h * at.h
                in_shape: tuple[int, ...] = (features,)
                at = replace(at, rf=at.rf + (at.h - 1) * at.jump, start=at.start + (at.h - 1) / 2 * at.jump)
            else:
                in_shape = (features,)
            weight, bias = features * layer.out, layer.out
            row = Row(name=layer.name, paper_name="", torch_name="", kind="fc", in_shape=in_shape,
                      out_shape=(layer.out,), kernel=1, stride=1, padding=0, groups=1, size_exact=None, adaptive=None,
                      weight_params=weight, bias_params=bias, params=weight + bias, cumulative_params=0,
                      macs_without_bias=weight, macs_with_bias=weight + bias, activations=layer.out,
                      activation_bytes=layer.out * BYTES_PER_FLOAT32, rf=at.rf, jump=at.jump, start=at.start)
            features = layer.out
        else:
            row, at = _spatial_row(layer, at, size, spec)
        total += row.params
        rows.append(replace(row, cumulative_params=total, paper_name=paper[layer.name],
                            torch_name=torch_paths[layer.name]))
    return Ledger(spec=spec, input_size=size, rows=tuple(rows), total_params=total,
                  total_macs_with_bias=sum(r.macs_with_bias for r in rows),
                  total_macs_without_bias=sum(r.macs_without_bias for r in rows),
                  total_activations=sum(r.activations for r in rows),
                  total_activation_bytes=sum(r.activation_bytes for r in rows),
                  min_input_size=min_input_size(spec))


def split_groups(n: int, groups: int) -> list[range]:
    """The output-channel ranges of each group (each GPU in the paper), in order."""
    if groups < 1 or n % groups:
        raise ValueError(f"{n} channels do not split into {groups} groups")
    size = n // groups
    return [range(g * size, (g + 1) * size) for g in range(groups)]


@dataclass(frozen=True)
class Box:
    """A receptive field on the input: the full window (may reach into padding) and its visible part."""

    layer: str
    row: int
    col: int
    rf: int
    jump: int
    centre: tuple[float, float]  # (y, x) in input pixels
    full: tuple[int, int, int, int]  # (x0, y0, x1, y1), inclusive, may lie outside the image
    clipped: tuple[int, int, int, int]  # the same, clipped to the image

    @property
    def visible_fraction(self) -> float:
        x0, y0, x1, y1 = self.full
        cx0, cy0, cx1, cy1 = self.clipped
        return ((cx1 - cx0 + 1) * (cy1 - cy0 + 1)) / ((x1 - x0 + 1) * (y1 - y0 + 1))


def receptive_field(spec: Spec, layer: str, row: int, col: int, input_size: int | None = None) -> Box:
    """The input pixels that unit (row, col) of `layer` sees, placed from the ledger's geometry.

    The ledger owns the arithmetic (rf, jump and the centre `start` of unit 0); this only puts
    unit j's centre at start + j * jump with rf pixels around it, and clips that to the image.
    """
    size = input_size or spec.input_size
    target = ledger(spec, size).row(layer)
    if target.kind == "fc":
        raise ValueError(f"{layer} is fully connected: every unit sees the whole image")
    out_h, out_w = target.out_shape[1], target.out_shape[2]
    if not (0 <= row < out_h and 0 <= col < out_w):
        raise ValueError(f"unit ({row}, {col}) is outside {layer}'s {out_h}x{out_w} map")
    half = (target.rf - 1) / 2
    cy, cx = target.start + row * target.jump, target.start + col * target.jump
    x0, y0 = math.floor(cx - half), math.floor(cy - half)
    full = (x0, y0, x0 + target.rf - 1, y0 + target.rf - 1)
    clipped = (max(0, full[0]), max(0, full[1]), min(size - 1, full[2]), min(size - 1, full[3]))
    return Box(layer=layer, row=row, col=col, rf=target.rf, jump=target.jump, centre=(cy, cx), full=full,
               clipped=clipped)
