"""The dataset-examples index: top images are the real argmax, boxes are the ledger's, torchrun agrees."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet_viz.analysis.index import build_index, load_index, save_index, spatial_layers
from alexnet_viz.analysis.probe import capture
from alexnet_viz.cli import main
from alexnet_viz.core.bookkeeping import receptive_field
from alexnet_viz.core.model import build_model
from alexnet_viz.core.weightschoice import RANDOM
from alexnet_viz.errors import AlexVizError
from alexnet_viz.inputs.images import load_image, to_tensor
from tests.helpers import ROOT, tiny
from tests.imagegen import text_bytes, truncated_png_bytes


def photos(folder: Path, n: int = 10, seed: int = 0) -> Path:
    """Seeded noise-and-blob pictures of mixed sizes, in a subfolder too, plus two unreadable files."""
    rng = np.random.default_rng(seed)
    (folder / "sub").mkdir(parents=True)
    for i in range(n):
        h, w = rng.integers(120, 300, size=2)
        arr = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        y, x = rng.integers(0, h // 2), rng.integers(0, w // 2)
        arr[y:y + h // 3, x:x + w // 3] = rng.integers(0, 256, size=3, dtype=np.uint8)
        Image.fromarray(arr).save(folder / ("sub" if i % 3 == 0 else ".") / f"img{i:02d}.png")
    (folder / "broken.png").write_bytes(truncated_png_bytes())
    (folder / "notes.png").write_bytes(text_bytes())
    return folder


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return photos(tmp_path_factory.mktemp("photos"))


@pytest.fixture(scope="module")
def built(folder):
    return build_index(folder, spec=tiny(), weights=RANDOM, k=3, batch_size=4, workers=0)


def test_the_top_patch_is_the_argmax_recomputed(built, folder) -> None:
    model = build_model(tiny(), seed=0)
    assert len(built.files) == 12 and {f for f, _ in built.errors} == {"broken.png", "notes.png"}
    good = [f for f in built.files if f not in dict(built.errors)]
    acts = {f: capture(model, to_tensor(load_image(folder / f), model.spec)) for f in good}
    for layer, top in built.layers.items():
        assert top.values.shape == (spatial_layers(model)[layer], 3)
        for channel in range(top.values.shape[0]):
            maxima = {f: float(a[layer][0, channel].max()) for f, a in acts.items()}
            best = sorted(maxima.values(), reverse=True)[:3]
            np.testing.assert_allclose(top.values[channel], best, rtol=1e-5, atol=1e-6)
            first = built.files[top.images[channel, 0]]
            row, col = top.units[channel, 0]
            fmap = acts[first][layer][0, channel]
            assert float(fmap[row, col]) == pytest.approx(float(fmap.max()), rel=1e-6)
            box = receptive_field(model.spec, layer, int(row), int(col)).clipped
            assert tuple(top.boxes[channel, 0]) == box


def test_save_and_load_round_trip(built, tmp_path) -> None:
    path = save_index(built, tmp_path / "idx")
    assert path.suffix == ".npz"
    again = load_index(path)
    assert again.files == built.files and again.errors == built.errors and again.variant == built.variant
    for layer, top in built.layers.items():
        for field in ("values", "images", "units", "boxes"):
            assert np.array_equal(getattr(again.layers[layer], field), getattr(top, field))
    path_, value, box = again.top("C3", 0)[0]
    assert box == tuple(int(b) for b in built.layers["C3"].boxes[0, 0])
    assert path_.is_file() and value == pytest.approx(float(built.layers["C3"].values[0, 0]))
    (tmp_path / "junk.npz").write_bytes(b"not an index")
    with pytest.raises(AlexVizError, match="rebuild"):
        load_index(tmp_path / "junk.npz")


def test_workers_do_not_change_the_index(built, folder) -> None:
    forked = build_index(folder, spec=tiny(), weights=RANDOM, k=3, batch_size=5, workers=2)
    for layer, top in built.layers.items():
        np.testing.assert_allclose(forked.layers[layer].values, top.values, rtol=1e-5)
        assert np.array_equal(forked.layers[layer].images, top.images)


def test_bf16_indexes_with_the_cpus_bf16_units_and_says_so(built, folder, tmp_path) -> None:
    """Batch work takes --precision bf16: the same top images up to bf16's rounding, recorded in the file."""
    fast = build_index(folder, spec=tiny(), weights=RANDOM, k=3, batch_size=4, workers=0, precision="bf16")
    assert built.precision == "float32" and fast.precision == "bf16"
    for layer, top in built.layers.items():
        got = fast.layers[layer].values
        assert not np.array_equal(got, top.values)  # really computed in bf16, not the float32 pass again
        np.testing.assert_allclose(got, top.values, rtol=0.05, atol=0.05)
    assert load_index(save_index(fast, tmp_path / "bf16")).precision == "bf16"
    with pytest.raises(AlexVizError, match="precision"):
        build_index(folder / "does-not-exist", spec=tiny(), weights=RANDOM, precision="fp8")


@pytest.mark.slow
def test_the_command_takes_precision(folder, tmp_path) -> None:
    out = tmp_path / "bf16.npz"
    assert main(["index", str(folder), "--out", str(out), "--precision", "bf16", "--weights", "random",
                 "--device", "cpu", "--workers", "0", "--top-k", "2"]) == 0
    assert load_index(out).precision == "bf16"


def test_an_unwritable_out_is_refused_before_any_image_is_read(folder, tmp_path, monkeypatch) -> None:
    import alexnet_viz.analysis.index as index_module
    from alexnet_viz.cli import build_parser
    from alexnet_viz.cli import index as index_command

    monkeypatch.setattr(index_module, "build_index", lambda *a, **k: pytest.fail("indexed before checking --out"))
    (tmp_path / "a-file").write_text("not a folder")
    args = build_parser().parse_args(["index", str(folder), "--out", str(tmp_path / "a-file" / "index.npz")])
    with pytest.raises(AlexVizError, match="writable --out"):
        index_command.run(args)


def test_not_a_folder_is_a_library_error(tmp_path) -> None:
    with pytest.raises(AlexVizError, match="folder"):
        build_index(tmp_path / "missing", spec=tiny(), weights=RANDOM)


def test_an_empty_folder_is_refused_before_the_model_loads(tmp_path, monkeypatch) -> None:
    import alexnet_viz.analysis.index as index_module

    monkeypatch.setattr(index_module, "load_model", lambda *a, **k: pytest.fail("model loaded for nothing"))
    (tmp_path / "notes.txt").write_text("no pictures here")
    with pytest.raises(AlexVizError, match="No images found"):
        build_index(tmp_path, spec=tiny(), weights=RANDOM)


@pytest.mark.slow
def test_torchrun_on_an_empty_folder_stops_every_rank_with_the_message(tmp_path) -> None:
    """Each rank lists the folder before joining the group: no rank is left waiting for rank 0."""
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "alexnet_viz", "index", str(tmp_path / "empty"), "--weights", "random",
                           "--device", "cpu", "--out", str(tmp_path / "i.npz")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode != 0
    assert done.stderr.count("No images found") >= 2, done.stderr[-3000:]  # rank 0's and rank 1's own
    assert "Connection closed" not in done.stderr and "Connection reset" not in done.stderr


@pytest.mark.slow
def test_torchrun_with_two_processes_equals_one_process(folder, tmp_path, capsys) -> None:
    common = [str(folder), "--top-k", "4", "--weights", "random", "--device", "cpu", "--workers", "0",
              "--batch-size", "3"]
    assert main(["index", *common, "--out", str(tmp_path / "one.npz")]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert sum(line.startswith(str(folder / "broken.png") + ": ") for line in lines) == 1  # one line each
    assert sum(line.startswith(str(folder / "notes.png") + ": ") for line in lines) == 1
    assert any("indexed 10 images" in line and "(2 unreadable)" in line for line in lines)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                           "-m", "alexnet_viz", "index", *common, "--out", str(tmp_path / "two.npz")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    one, two = load_index(tmp_path / "one.npz"), load_index(tmp_path / "two.npz")
    assert one.files == two.files and one.errors == two.errors
    for layer in one.layers:
        np.testing.assert_allclose(two.layers[layer].values, one.layers[layer].values, rtol=1e-4, atol=1e-5)
        for field in ("images", "units", "boxes"):
            assert np.array_equal(getattr(two.layers[layer], field), getattr(one.layers[layer], field)), layer
    assert torch.distributed.is_available()
