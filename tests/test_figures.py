"""Figures are pure functions of the ledger: the right blocks, to the stated scale, with true numbers."""
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from alexnet_viz.analysis.probe import capture
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.figures.architecture import (
    block_diagram,
    block_strip,
    dense_figure,
    layer_diagram,
    params_vs_macs,
    value_grids,
    variants_chart,
    vector_bars,
)


def _meshes(fig, name=None):
    return [t for t in fig.data if isinstance(t, go.Mesh3d) and (name is None or t.name == name)]


def _extent(mesh, axis):
    values = np.asarray(getattr(mesh, axis))
    return float(values.max() - values.min())


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_block_diagram_has_a_block_per_map_and_a_window_per_spatial_layer(variant):
    book = ledger(variant)
    fig = block_diagram(book)
    names = [m.name for m in _meshes(fig)]
    assert names[0] == "input"
    blocks = [n for n in names[1:] if "window" not in n]
    if any(r.groups > 1 for r in book.rows):  # the paper's two towers: GPU 1 and GPU 2, one block for F11
        assert blocks == [f"{n} (GPU {g})" for n in book.spec.names[:-1] for g in (1, 2)] + ["F11"]
    else:
        assert blocks == list(book.spec.names)
    assert sum("window" in n for n in names) == sum(r.kind != "fc" for r in book.rows)
    for r in book.rows:
        mesh = next(m for m in _meshes(fig) if m.name.split(" (GPU")[0] == r.name)
        assert f"params {r.params:,}" in mesh.hovertext


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_block_names_sit_on_one_line_under_every_block_none_on_another(variant):
    """Above the blocks, C1's name hid behind its window in the input, and "input" lay on C1 in the towers."""
    fig = block_diagram(ledger(variant))
    text = next(t for t in fig.data if isinstance(t, go.Scatter3d) and t.mode == "text" and "C1" in t.text)
    assert text.text[:2] == ("input", "C1")
    lowest = min(float(np.min(m.z)) for m in _meshes(fig))
    front = min(float(np.min(m.y)) for m in _meshes(fig))
    assert len(set(text.z)) == 1 and text.z[0] < lowest  # under every block and window: nothing in front
    assert set(text.y) == {front}
    assert min(np.diff(text.x)) > 5  # neighbours' names apart (a name of 3-5 letters is about 5 units wide)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_block_strip_has_a_bar_per_map_named_by_its_layer(variant):
    book = ledger(variant)
    bar = block_strip(book).data[0]
    assert list(bar.customdata) == ["input", *book.spec.names]  # what a tap reports
    side = book.input_size
    assert bar.text[0] == f"{side}x{side}x3" and bar.text[1] == f"55x55x{book.rows[0].out_shape[0]}"
    assert f"params {book.rows[0].params:,}" in bar.hovertext[1]


def test_block_sizes_follow_channels_and_sides():
    fig = block_diagram(ledger("article"))
    depth = {m.name: _extent(m, "x") for m in _meshes(fig)}
    side = {m.name: _extent(m, "y") for m in _meshes(fig)}
    assert depth["C5"] > depth["C3"] > depth["C1"] > depth["input"]  # 384 > 256 > 96 > 3 channels
    assert side["input"] > side["C1"] > side["S2"] > side["S4"] > side["S8"]  # 224 > 55 > 27 > 13 > 6


def test_two_gpu_towers_hold_half_the_channels_each():
    fig = block_diagram(ledger("paper"))
    # a tower's block is as deep as a one-tower block of half the channels (C3: 128 of 256)
    half = _extent(_meshes(block_diagram(ledger(VARIANTS["article"].with_layer("C3", out=128))), "C3")[0], "x")
    assert _extent(_meshes(fig, "C3 (GPU 1)")[0], "x") == pytest.approx(half)
    assert _extent(_meshes(fig, "C3 window")[0], "x") == pytest.approx(_extent(_meshes(fig, "S2 (GPU 1)")[0], "x"))
    assert "GPUs exchange data here" in _meshes(fig, "C5 (GPU 1)")[0].hovertext
    assert "own GPU" in _meshes(fig, "C6 (GPU 2)")[0].hovertext


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_layer_diagram_hover_states_the_real_models_numbers(variant):
    """Against the built network, not the ledger: its module path, its parameter count, its output shape."""
    model = build_model(VARIANTS[variant], seed=0)
    modules = dict(model.named_modules())
    x = torch.zeros(1, 3, model.spec.input_size, model.spec.input_size)
    outputs = capture(model, x)
    book = ledger(variant)
    paper = {"C1": "conv1", "S2": "pool1", "C3": "conv2", "C5": "conv3", "F11": "fc8"}
    for r in book.rows:
        hover = _meshes(layer_diagram(book, r.name), r.name)[0].hovertext
        path = next(p for p, m in modules.items() if m is model.layer(r.name))
        params = sum(p.numel() for m in model.parts(r.name).values() for p in m.parameters())
        shape = tuple(outputs[r.name].shape[1:])
        out = f"{shape[1]}x{shape[2]}x{shape[0]}" if len(shape) == 3 else str(shape[0])
        assert f"PyTorch: {path}" in hover and f"params {params:,} " in hover and f"→ {out}" in hover, hover
        if r.name in paper:
            assert f"paper: {paper[r.name]} " in hover


def test_layer_diagram_spatial_scale():
    book = ledger("article")
    fig = layer_diagram(book, "C3")
    kernel, inp, out = _meshes(fig, "kernel")[0], _meshes(fig, "S2")[0], _meshes(fig, "C3")[0]
    assert _extent(kernel, "y") / _extent(inp, "y") == pytest.approx(5 / 27)
    assert _extent(out, "y") / _extent(inp, "y") == pytest.approx(27 / 27)
    fig = layer_diagram(book, "C1")
    assert _extent(_meshes(fig, "kernel")[0], "y") / _extent(_meshes(fig, "input")[0], "y") == pytest.approx(11 / 224)


def test_params_vs_macs_shares():
    book = ledger("article")
    fig = params_vs_macs(book)
    params, macs = fig.data
    assert float(np.sum(params.y)) == pytest.approx(100) and float(np.sum(macs.y)) == pytest.approx(100)
    assert list(params.x).index("F9") == int(np.argmax(params.y))
    assert float(params.customdata[0]) == book.row("C1").params


def test_variants_chart():
    fig = variants_chart({n: ledger(s) for n, s in VARIANTS.items()})
    assert len(fig.data) == 2 * len(VARIANTS)
    tv = [t for t in fig.data if t.name == "torchvision"][0]
    assert float(tv.y[0]) == ledger("torchvision").row("C1").params


def test_value_grids_outline_window_and_cell():
    x = np.arange(36, dtype=float).reshape(6, 6)
    fig = value_grids([x, np.ones((3, 3)), np.zeros((4, 4))], ["a", "b", "c"], window=((0, 3), (1, 4)), cell=(0, 1),
                      cell_panel=2, padding=1)
    rects = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(rects) == 2
    assert (rects[0].x0, rects[0].x1) == (0.5, 3.5)
    assert len(fig.data[0].z) == 8  # padded by 1 on each side


def test_small_figures():
    fig = dense_figure(np.ones(3), np.ones(4), np.ones(2), np.ones((4, 3)), -np.ones((2, 4)))
    assert sum(t.mode == "lines" for t in fig.data) == 3 * 4 + 4 * 2
    assert len(vector_bars({"a": np.array([1.0, -1.0]), "b": np.array([0.5, 0.5])}).data) == 2
