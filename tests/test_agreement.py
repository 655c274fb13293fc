"""Three-way agreement: the ledger, a real forward pass and torchinfo, layer by layer."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch
import torchinfo
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from alexnet_viz import SpecError, get_spec, ledger
from alexnet_viz.core.model import AlexNet, build_model
from alexnet_viz.core.spec import ARTICLE, VARIANTS, LayerSpec, Spec

# each preset at its own size in the fast loop; the smallest and odd sizes with the slow tests
CASES = [("article", 224), ("paper", 227), ("torchvision", 224),
         *(pytest.param(v, size, marks=pytest.mark.slow) for v, size in
           [("article", 63), ("article", 257), ("paper", 224), ("torchvision", 63), ("torchvision", 300)])]


def layer_outputs(model: AlexNet, size: int) -> dict[str, tuple[int, ...]]:
    """Each numbered layer's output shape, from hooks on its last module."""
    shapes: dict[str, tuple[int, ...]] = {}
    handles = []
    for name in model.layer_names:
        path = list(model.part_paths(name).values())[-1]
        module = model.get_submodule(path)
        handles.append(module.register_forward_hook(
            lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
    try:
        with torch.no_grad():
            model(torch.zeros(1, model.spec.in_channels, size, size))
    finally:
        for h in handles:
            h.remove()
    return shapes


def torchinfo_by_layer(model: AlexNet, size: int) -> dict[str, tuple[int, int]]:
    """(params, MACs) per numbered layer from torchinfo's leaf modules."""
    info = torchinfo.summary(model, input_size=(1, model.spec.in_channels, size, size), device="cpu", verbose=0)
    owner = {id(m): name for name in model.layer_names for m in model.parts(name).values()}
    out = {name: (0, 0) for name in model.layer_names}
    for li in info.summary_list:
        name = owner.get(id(li.module))
        if name is not None:
            p, macs = out[name]
            out[name] = (p + li.num_params, macs + li.macs)
    return out


def check_agreement(model: AlexNet, size: int) -> None:
    book = ledger(model.spec, size)
    shapes = layer_outputs(model, size)
    counted = torchinfo_by_layer(model, size)
    for row in book.rows:
        assert shapes[row.name] == row.out_shape, row.name
        module_params = sum(p.numel() for m in model.parts(row.name).values() for p in m.parameters())
        assert module_params == row.params, row.name
        assert counted[row.name] == (row.params, row.macs_with_bias), row.name
    assert sum(p.numel() for p in model.parameters()) == book.total_params


@pytest.mark.parametrize("variant,size", CASES)
def test_ledger_forward_and_torchinfo_agree(variant: str, size: int) -> None:
    check_agreement(build_model(get_spec(variant).with_input_size(size), seed=0), size)


@pytest.mark.parametrize("variant", ["article", "paper", "torchvision"])
def test_torchinfo_totals_equal_the_ledger_totals(variant: str) -> None:
    model = build_model(VARIANTS[variant], seed=0)
    book = ledger(variant)
    info = torchinfo.summary(model, input_size=(1, 3, book.input_size, book.input_size), device="cpu", verbose=0)
    assert info.total_params == book.total_params
    assert info.total_mult_adds == book.total_macs_with_bias


@st.composite
def small_specs(draw) -> tuple[Spec, int]:
    """Random AlexNet-shaped networks small enough to build in milliseconds."""
    layers = []
    for name in ("C1", "S2", "C3", "S4", "C5"):
        if name.startswith("C"):
            groups = draw(st.sampled_from([1, 1, 2, 3]))
            layers.append(LayerSpec(name, "conv", out=groups * draw(st.integers(1, 4)),
                                    kernel=draw(st.integers(1, 5)), stride=draw(st.integers(1, 3)),
                                    padding=draw(st.integers(0, 2)), groups=groups, relu=draw(st.booleans())))
        else:
            kernel = draw(st.integers(1, 3))
            layers.append(LayerSpec(name, draw(st.sampled_from(["maxpool", "avgpool"])), kernel=kernel,
                                    stride=draw(st.integers(1, 2)), padding=draw(st.integers(0, kernel // 2)),
                                    adaptive=draw(st.sampled_from([None, None, 1, 2, 3]))))
    layers += [LayerSpec("F6", "fc", out=draw(st.integers(1, 8)), relu=True, dropout=0.5),
               LayerSpec("F7", "fc", out=draw(st.integers(1, 5)))]
    in_channels = draw(st.sampled_from([1, 3, 6]))
    spec = replace(ARTICLE, name="random", layers=tuple(layers), in_channels=in_channels)
    return spec, draw(st.integers(1, 48))


@pytest.mark.slow
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
@given(small_specs())
def test_random_valid_specs_agree(case: tuple[Spec, int]) -> None:
    spec, size = case
    try:
        ledger(spec, size)
    except SpecError:
        reject()
    check_agreement(AlexNet(replace(spec, input_size=size)).eval(), size)
