"""Before and after training: the library's pairs (a run's own initialisation, its narrowed head, its
classes) and each image page's "compare with" under AppTest."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from alexnet_viz.core.spec import VARIANTS
from alexnet_viz.train import before_after as ba
from alexnet_viz.train import demo, runs
from alexnet_viz.train.config import resolve
from alexnet_viz.train.loop import initial_model, training_spec
from tests.helpers import open_page
from ui.navigation import PAGE_DIR


def _smooth_c1(shape: tuple[int, ...]) -> torch.Tensor:
    """C1 as training might leave it: smooth oriented stripes, one angle per kernel."""
    ys, xs = np.mgrid[-5:6, -5:6].astype(np.float32)
    kernels = [np.cos((xs * np.cos(a) + ys * np.sin(a)) / 1.5) * np.exp(-(xs ** 2 + ys ** 2) / 20)
               for a in np.linspace(0, np.pi, shape[0], endpoint=False)]
    return torch.from_numpy(np.stack([np.stack([k, -k, 0.5 * k]) for k in kernels]) * 0.05).float()


def make_run(root: Path, name: str = "page-demo-1") -> Path:
    """A demo run's files as the trainer leaves them (no training): config, classes, epoch-000, last.pt."""
    run = root / name
    config = resolve(demo=True, run_dir=str(run))
    spec = training_spec(config, len(demo.CLASSES))
    model = initial_model(config, spec)
    (run / runs.FILTERS).mkdir(parents=True)
    (run / runs.CONFIG).write_text(config.to_json())
    (run / runs.CLASSES).write_text(json.dumps(sorted(demo.CLASSES)))
    (run / runs.FITS).write_text("[]")
    np.save(runs.filter_file(run, 0), model.layer("C1").weight.detach().numpy())
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state["features.0.weight"] = _smooth_c1(tuple(state["features.0.weight"].shape))
    torch.save(state, run / runs.WEIGHTS)
    return run


def test_a_runs_before_is_its_own_initialisation_and_after_its_checkpoint(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    found = ba.choices(VARIANTS["torchvision"], tmp_path, None)
    assert [t.run for t in found] == [str(run.resolve())] and "last.pt" in found[0].label
    before, after = ba.networks(found[0])
    assert np.array_equal(ba.weights(before, "C1"), np.load(runs.filter_file(run, 0)))
    assert np.array_equal(ba.weights(after, "C1"), _smooth_c1((64, 3, 11, 11)).numpy())
    assert before.spec.input_size == after.spec.input_size == 224  # the app's size, not the run's 64 px
    names = ba.class_names(found[0], after.spec.layers[-1].out)
    assert names == sorted(demo.CLASSES)
    x = torch.zeros(1, 3, 224, 224)
    assert [n for n, _ in ba.top(after, x, names, k=50)] and len(ba.top(after, x, names, k=50)) == 12
    assert ba.activation(after, x, "C1", 3).shape == (55, 55) and ba.activation(after, x, "F10", 7).shape == ()
    assert ba.weights(after, "S2") is None  # a pooling layer has none


def test_only_the_variants_own_runs_and_an_existing_imagenet_file_are_offered(tmp_path: Path) -> None:
    make_run(tmp_path)
    assert ba.choices(VARIANTS["article"], tmp_path, None) == []
    fake = tmp_path / "alexnet-owt.pth"
    assert ba.choices(VARIANTS["article"], tmp_path, fake) == []  # no file: nothing is downloaded for a comparison
    fake.write_bytes(b"x")
    assert [t.ident for t in ba.choices(VARIANTS["article"], tmp_path, fake)] == [ba.IMAGENET]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / runs.CONFIG).write_text("{not json")
    (tmp_path / "broken" / runs.WEIGHTS).write_bytes(b"")
    assert len(ba.choices(VARIANTS["torchvision"], tmp_path, None)) == 1  # an unreadable run is left out


def test_a_run_at_another_size_whose_head_depends_on_it_is_not_offered(tmp_path: Path) -> None:
    run = make_run(tmp_path)
    config = json.loads((run / runs.CONFIG).read_text())
    (run / runs.CONFIG).write_text(json.dumps({**config, "variant": "article"}))  # article has no adaptive pool
    assert ba.choices(VARIANTS["article"], tmp_path, None) == []


# --- the pages ------------------------------------------------------------------------------------

@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path))
    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # no ImageNet file: the run is the only choice
    return make_run(tmp_path)


def _compare(page: str, key: str, run: Path, query: dict[str, str] | None = None):
    at = open_page(f"{PAGE_DIR}/{page}.py", {"variant": "torchvision", **(query or {})})
    box = at.selectbox(key=key)
    assert box.value is None and len(box.options) == 2  # nothing is computed until a checkpoint is chosen
    box.set_value(str((run / runs.WEIGHTS).resolve())).run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [m.value for m in at.markdown]
    assert "**Before training**" in texts and "**After training**" in texts
    assert any(c.value.startswith("Before: the run's own starting weights") and run.name in c.value
               for c in at.caption)
    return at


def _captions(at) -> list[str]:
    return [str(c) for image in at.image for c in image.captions]


@pytest.mark.slow
def test_feature_maps_compare_one_channel_before_and_after(server: Path) -> None:
    at = _compare("feature_maps", "fm_compare", server)
    shown = [c for c in _captions(at) if c.startswith("C1 channel 0 for this photo")]
    assert len(shown) == 2


@pytest.mark.slow
def test_filters_compare_c1_with_its_structure(server: Path) -> None:
    at = _compare("filters", "flt_compare", server)
    shown = [c for c in _captions(at) if "structure" in c and "All 64 of C1's kernels" in c]
    assert len(shown) == 2
    before, after = (float(c.split("structure ")[1].split(" ")[0]) for c in shown)
    assert abs(before) < 0.05 and after > 0.9


@pytest.mark.slow
def test_prediction_compares_the_runs_own_classes(server: Path) -> None:
    at = _compare("prediction", "pred_compare", server)
    tables = [d.value for d in at.dataframe][-2:]
    assert all(set(t["class"]) <= set(demo.CLASSES) and len(t) == 5 for t in tables)


@pytest.mark.slow
def test_unit_compares_the_channel_map_and_its_kernel(server: Path) -> None:
    at = _compare("unit", "unit_compare", server, {"layer": "C1", "channel": "5"})
    captions = _captions(at)
    assert len([c for c in captions if c.startswith("C1 channel 5 for this photo")]) == 2
    assert len([c for c in captions if c.startswith("C1 kernel 5: structure")]) == 2
