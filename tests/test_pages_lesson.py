"""The lesson page under AppTest: each step's numbers against the model itself, Previous/Next and the step in the URL.

The reference values are computed here from the same random network (seed 0) and the same sample photo with
PyTorch directly, not through the lesson's own functions, so a step that shows a wrong number fails.
"""
from __future__ import annotations

import functools
import re

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from alexnet_viz.analysis.probe import capture, categories
from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.core.weights import load_model
from alexnet_viz.inputs.images import load_image, to_tensor
from tests.helpers import ROOT, open_page
from ui.navigation import PAGE_DIR, SECTIONS

LESSON = f"{PAGE_DIR}/lesson.py"
STEPS = 10
pytestmark = pytest.mark.usefixtures("random_weights_on_cpu")


@functools.cache
def _truth(variant: str) -> tuple[dict[str, np.ndarray], torch.nn.Module]:
    """Every layer of the random network (seed 0, as the server builds it) for the cat, in float64."""
    spec = VARIANTS[variant]
    model = load_model(spec, "random")
    x = to_tensor(load_image((ROOT / "assets" / "samples" / "cat.jpg").read_bytes()), spec)
    out = {k: v[0].double().numpy() for k, v in capture(model, x).items()}
    out["x"] = x[0].double().numpy()
    return out, model


def _focus(out: dict[str, np.ndarray]) -> tuple[int, int]:
    """The C1 unit the lesson follows: the centre, in the channel with the largest value there."""
    centre = out["C1.pre"].shape[1] // 2
    return int(np.argmax(out["C1.pre"][:, centre, centre])), centre


def _step(n: int | str, variant: str = "article") -> tuple[AppTest, str]:
    at = open_page(LESSON, {"step": str(n), "variant": variant})
    assert not at.error, [e.value for e in at.error]
    texts = ([c.value for c in at.code] + [m.value for m in at.markdown] + [c.value for c in at.caption]
             + [str(i.value) for i in at.info] + [e.proto.text for e in at.get("progress")]
             + [c for image in at.image for c in image.captions])
    return at, "\n".join(texts)


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in {text[:2000]}"
    return float(found.group(1).replace(",", "").replace("−", "-"))


def test_step_1_the_pixel_written_out_is_the_networks_input():
    at, text = _step(1)
    out, _ = _truth("article")
    _, centre = _focus(out)
    first = centre * 4 - 2  # C1: stride 4, padding 2 in the article's network; the patch's top-left pixel
    assert f"pixel (row {first}, column {first})" in text
    for name, c in zip("RGB", range(3)):
        shown = _number(rf"{name}: \(.*\)/[\d.]+ = ([+-]\d\.\d+)", text)
        assert shown == pytest.approx(out["x"][c, first, first], abs=6e-5)
    assert "✓ equal" in text and "224×224×3 = **150,528**" in text
    assert at.selectbox(key="image_sample").value == "cat"  # the picker is on the first step itself
    assert [t.value for t in at.title] == ["Your photo goes in"] and "step by step: 1 of 10" in text
    assert len(at.image) == 2 and "Source:" in text and "With trained weights:" in text


def test_step_2_the_sum_by_hand_is_the_forward_passes_c1_value():
    _, text = _step(2)
    out, model = _truth("article")
    channel, centre = _focus(out)
    assert f"kernel {channel} at row {centre}, column {centre}" in text and "**363**" in text
    forward = out["C1.pre"][channel, centre, centre]
    assert _number(r"= ([+-]\d+\.\d+)  by hand", text) == pytest.approx(forward, abs=1e-6)
    assert _number(r"forward pass: ([+-]\d+\.\d+)", text) == pytest.approx(forward, abs=1e-6)
    weight = float(model.weight("C1")[channel, 0, 0, 0].detach())
    assert _number(r"R\[0,0\] [+-]\d\.\d+ × ([+-][\d.e-]+) =", text) == pytest.approx(weight, rel=1e-3)
    assert "✓ equal" in text and "NOT" not in text and "360 more products" in text


def test_step_3_relu_zeroes_what_the_forward_pass_says():
    _, text = _step(3)
    out, _ = _truth("article")
    channel, centre = _focus(out)
    pre = out["C1.pre"]
    assert _number(r"= \*\*(\d\.\d+)\*\*", text) == pytest.approx(max(pre[channel, centre, centre], 0.0), abs=1e-4)
    assert f"sets {int((pre[channel] <= 0).sum()):,} of 3,025 values to 0" in text
    assert f"in all of C1, {(pre <= 0).mean():.0%}" in text


@pytest.mark.parametrize("variant", ["article", "paper"])
def test_step_4_lrn_under_both_readings_and_the_paper_networks_own_output(variant):
    _, text = _step(4, variant)
    out, _ = _truth(variant)
    channel, centre = _focus(out)
    block = 48 if variant == "paper" else 96  # the paper's net normalises each GPU's maps on their own
    first = channel - channel % block
    a = np.maximum(out["C1.pre"][max(first, channel - 2):min(first + block, channel + 3), centre, centre], 0.0)
    squares = float((a ** 2).sum())
    assert _number(r"Σ a² over maps \d+–\d+ = ([\d.e-]+)", text) == pytest.approx(squares, rel=1e-4)
    code = _number(r"c = α/n = 2e-05:\n.*= (\d\.\d+)\n", text)
    printed = _number(r"c = α = 0\.0001:\n.*= (\d\.\d+)\n", text)
    assert code == pytest.approx((2 + 2e-5 * squares) ** 0.75, abs=1e-6)
    assert printed == pytest.approx((2 + 1e-4 * squares) ** 0.75, abs=1e-6)
    if variant == "paper":  # the network normalises as Krizhevsky's code did: its own C1 output is that b
        assert _number(r"C1 output there:\n  ([\d.]+)", text) == pytest.approx(out["C1"][channel, centre, centre],
                                                                              rel=1e-5)
        assert "✓ equal" in text and "has none" not in text and "this network uses c = α/n" in text
    else:
        assert "network has none; here it is applied to its C1" in text and "C1 output there" not in text


def test_step_5_the_pool_unit_is_the_max_of_its_window_and_the_forward_pass():
    _, text = _step(5)
    out, _ = _truth("article")
    channel, centre = _focus(out)
    row = centre // 2
    value = _number(r"\n  = ([\d.]+)\n", text)
    assert value == pytest.approx(out["S2"][channel, row, row], rel=1e-5)
    assert value == pytest.approx(out["C1"][channel, 2 * row:2 * row + 3, 2 * row:2 * row + 3].max(), rel=1e-5)
    assert "✓ identical" in text and "share 1 column" in text and "55×55 becomes 27×27" in text


def test_step_6_the_strongest_maps_are_the_forward_passes():
    at, text = _step(6)
    out, _ = _truth("article")
    for name in ("C1", "C5"):
        strongest = np.argsort(-out[name].reshape(out[name].shape[0], -1).max(axis=1), kind="stable")[:8]
        assert f"(maps {', '.join(map(str, strongest))})" in text
    assert "S8 hands **9,216** numbers" in text and "5 convolutional layers (C1, C3, C5, C6, C7)" in text
    assert re.search(r"C5's maps vary by \d+%", text) and len(at.image) == 2


def test_step_7_receptive_fields_grow_as_kernels_and_strides_say():
    at, text = _step(7)
    sizes, rf, jump = {}, 1, 1
    for name, kernel, stride in (("C1", 11, 4), ("S2", 3, 2), ("C3", 5, 1), ("S4", 3, 2), ("C5", 3, 1),
                                 ("C6", 3, 1), ("C7", 3, 1)):
        rf, jump = rf + (kernel - 1) * jump, jump * stride
        sizes[name] = rf
    assert f"C1 {sizes['C1']}×{sizes['C1']}, C3 {sizes['C3']}×{sizes['C3']}, C5 {sizes['C5']}×{sizes['C5']}, " \
           f"C7 {sizes['C7']}×{sizes['C7']} pixels" in text
    assert "C5 units look 16 pixels apart" in text and len(at.image) == 1


def test_step_8_the_shares_come_from_the_models_own_parameters_and_f9_by_hand():
    _, text = _step(8)
    out, model = _truth("article")
    conv = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.Conv2d) for p in m.parameters())
    fc = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) for p in m.parameters())
    assert f"fully connected layers: **{fc / (conv + fc):.0%}** ({fc:,} of {conv + fc:,})" in text
    conv_macs = sum(out[n].size * (m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1] + 1)
                    for n, m in zip(("C1", "C3", "C5", "C6", "C7"),
                                    [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]))
    fc_macs = sum(m.in_features * m.out_features + m.out_features for m in model.modules()
                  if isinstance(m, torch.nn.Linear))
    assert f"convolutions: **{conv_macs / (conv_macs + fc_macs):.0%}** ({conv_macs:,} of" in text
    unit = int(np.argmax(out["F9.pre"]))
    assert f"F9 unit {unit} (the strongest here)" in text
    assert _number(r"= ([+-]\d+\.\d+)\nforward", text) == pytest.approx(out["F9.pre"][unit], abs=1e-5)
    assert "✓ equal" in text


def test_step_9_dropout_is_off_in_the_forward_pass():
    _, text = _step(9)
    out, _ = _truth("article")
    six = sorted(np.argsort(-out["F9"], kind="stable")[:6])
    assert f"(units {', '.join(map(str, six))})" in text
    assert "✓ checked on all units" in text and re.search(r"over 2,000 passes, \d\d\.\d% of the values were kept", text)


def test_step_10_softmax_by_hand_is_the_prediction_with_chance_beside_it():
    at, text = _step(10)
    out, model = _truth("article")
    probs = torch.softmax(torch.from_numpy(out["F11"]), 0)
    best = int(probs.argmax())
    label = categories(1000)[best]
    assert f"{label}: score z = {out['F11'][best]:+.4f}" in text
    assert _number(r"\n  p = [\d.]+ / [\d.]+ = ([\d.]+)%", text) == pytest.approx(100 * float(probs[best]), abs=1e-4)
    assert "chance, 1 in 1,000: 0.1%" in text and f"{label} is {1000 * float(probs[best]):.1f}× chance" in text
    blank = capture(model, torch.zeros(1, 3, 224, 224), ["F11"])["F11"][0]
    same = int(blank.argmax()) == best
    assert ("the answer comes from the random weights, not from your photo" in text) == same
    chart = at.get("plotly_chart")[0].proto.spec
    assert "chance: 1 in 1,000 = 0.1%" in chart


def test_next_and_previous_walk_the_steps_and_keep_the_url():
    at, _ = _step(1)
    assert at.button(key="lesson_previous").disabled
    for n in range(2, STEPS + 1):
        at.button(key="lesson_next").click().run()
        assert not at.exception and at.query_params.get("step") == str(n)
    assert at.button(key="lesson_next").disabled and [t.value for t in at.title] == ["Softmax and the top 5"]
    at.button(key="lesson_previous").click().run()
    assert at.query_params.get("step") == str(STEPS - 1) and at.title[0].value == "Dropout, in training only"


@pytest.mark.parametrize("bad", ["0", "11", "five"])
def test_a_bad_step_in_the_link_gets_a_short_note(bad):
    at, text = _step(bad)
    assert any(f"step **{bad}**, which is not one of 1–10: showing **1**" in i.value for i in at.info)
    assert at.query_params.get("step") == "1" and at.title[0].value == "Your photo goes in"


def test_the_lesson_comes_first_in_the_navigation():
    section, pages = SECTIONS[0]
    assert section == "Start here" and [(p[0], p[3]) for p in pages] == [("lesson", "lesson")]
    assert LESSON == f"{PAGE_DIR}/lesson.py"


@pytest.mark.slow  # loads a second network from a file
def test_with_a_weights_file_the_steps_drop_the_untrained_notes(monkeypatch, tmp_path):
    from alexnet_viz.core.model import build_model

    path = tmp_path / "checkpoint.pth"
    torch.save(build_model(VARIANTS["article"], seed=3).state_dict(), path)
    monkeypatch.setenv("ALEXNET_WEIGHTS", str(path))
    for n in (2, 10):
        at, text = _step(n)
        assert "With trained weights" not in text and "random, untrained" not in text
        assert "checkpoint.pth" in at.caption[0].value and "✓ equal" in text
