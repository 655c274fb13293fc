"""`python -m alexnet_viz predict`: folders, bad files, JSON and table output, weights from a file."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image

from alexnet_viz.analysis.probe import categories
from alexnet_viz.cli import main
from alexnet_viz.core.spec import TORCHVISION
from alexnet_viz.inputs.imagefiles import collect
from alexnet_viz.inputs.images import load_image, to_tensor


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """A folder tree: two real images (one nested), a text file named .jpg, and a file to ignore."""
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    g = torch.Generator().manual_seed(0)
    noise = (torch.rand(120, 160, 3, generator=g) * 255).to(torch.uint8).numpy()
    Image.fromarray(noise).save(root / "noise.png")
    Image.new("RGB", (64, 48), (20, 120, 220)).save(root / "nested" / "blue.jpg")
    (root / "nested" / "fake.jpg").write_text("this is not a JPEG")
    (root / "notes.txt").write_text("ignored: not an image name")
    return root


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(["predict", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_folder_gives_one_json_object_per_image_and_an_error_for_the_bad_one(photos: Path, capsys) -> None:
    missing = str(photos / "missing.png")
    code, out, err = run(capsys, str(photos), missing, "--weights", "random", "--format", "json", "--topk", "3",
                         "--batch-size", "2", "--workers", "2")
    assert code == 0
    doc = json.loads(out)
    paths = [Path(item["path"]).relative_to(photos).as_posix() for item in doc]
    assert paths == ["nested/blue.jpg", "nested/fake.jpg", "noise.png", "missing.png"]
    good = [item for item in doc if "top" in item]
    assert len(good) == 2
    names = categories(1000)
    for item in good:
        probs = [t["prob"] for t in item["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1
        assert all(names[t["index"]] == t["label"] for t in item["top"])
    assert "not an image" in doc[1]["error"]
    assert doc[3]["error"] == "No such file or folder."
    assert "Random, untrained weights" in err and "mean nothing" in err


@pytest.mark.slow
def test_table_output_is_readable_and_workers_do_not_change_results(photos: Path, capsys) -> None:
    base = [str(photos), "--weights", "random", "--variant", "torchvision", "--topk", "2"]
    code, table, _ = run(capsys, *base, "--workers", "0")
    assert code == 0
    lines = table.splitlines()
    assert lines[0].startswith("weights: Random") and lines[1].startswith("device: CPU")
    assert str(photos / "nested" / "fake.jpg") in lines
    assert any(line.startswith("  error: ") for line in lines)
    assert sum(line.startswith("   1. ") for line in lines) == 2 and "%" in table
    code, threaded, _ = run(capsys, *base, "--workers", "2", "--batch-size", "1")
    assert code == 0 and threaded == table


def test_folder_listing_skips_non_images_but_tries_every_named_file(photos: Path) -> None:
    entries = collect([str(photos / "notes.txt"), str(photos)])
    assert entries[0] == (str(photos / "notes.txt"), None)
    assert [Path(p).name for p, _ in entries[1:]] == ["blue.jpg", "fake.jpg", "noise.png"]
    empty = photos / "nested" / "empty"
    empty.mkdir()
    assert "No PNG" in collect([str(empty)])[0][1]


def test_nothing_readable_is_a_one_line_error(photos: Path, capsys) -> None:
    code, out, err = run(capsys, str(photos / "nested" / "fake.jpg"), str(photos / "nope"), "--weights", "random")
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: None of the 2 input(s)")
    assert "Traceback" not in err


def test_bad_weights_fail_before_any_image_is_read(photos: Path, tmp_path: Path, capsys) -> None:
    code, out, err = run(capsys, str(photos), "--weights", str(tmp_path / "absent.pth"))
    assert code == 2 and out == "" and err.startswith("error: ") and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("flag", [("--topk", "0"), ("--batch-size", "0"), ("--device", "tpu")])
def test_bad_options_are_one_line_errors(photos: Path, capsys, flag: tuple[str, str]) -> None:
    code, out, err = run(capsys, str(photos), "--weights", "random", *flag)
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err


@pytest.mark.slow
def test_a_torchvision_state_dict_gives_the_same_top5_in_both_variants(photos: Path, tmp_path: Path,
                                                                      capsys) -> None:
    torch.manual_seed(0)
    reference = torchvision.models.alexnet().eval()
    path = tmp_path / "alexnet-random.pth"
    torch.save(reference.state_dict(), path)
    tops = {}
    for variant in ("article", "torchvision"):
        code, out, _ = run(capsys, str(photos / "noise.png"), "--weights", str(path), "--variant", variant,
                           "--format", "json")
        assert code == 0
        tops[variant] = json.loads(out)[0]["top"]
    assert [t["index"] for t in tops["article"]] == [t["index"] for t in tops["torchvision"]]
    assert [t["prob"] for t in tops["article"]] == pytest.approx([t["prob"] for t in tops["torchvision"]], abs=1e-5)
    with torch.no_grad():
        expected = torch.softmax(reference(to_tensor(load_image(photos / "noise.png"), TORCHVISION)), 1)[0].topk(5)
    assert [t["index"] for t in tops["torchvision"]] == expected.indices.tolist()


@pytest.mark.slow
def test_the_module_entry_point_runs(photos: Path, capsys) -> None:
    proc = subprocess.run([sys.executable, "-m", "alexnet_viz", "predict", str(photos / "noise.png"),
                           "--weights", "random", "--format", "json", "--variant", "torchvision"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)[0]["top"]) == 5
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    assert "one object per image" in " ".join(capsys.readouterr().out.split())


@pytest.mark.slow
def test_bf16_precision_agrees_with_float32(photos: Path, tmp_path: Path, capsys) -> None:
    """Weights cast once to bf16 give float32's ranking when the logits are far apart (the last layer is scaled
    up so that bf16's ~3 significant digits cannot reorder them)."""
    torch.manual_seed(1)
    reference = torchvision.models.alexnet().eval()
    with torch.no_grad():
        reference.classifier[6].weight.mul_(200)
    path = tmp_path / "alexnet-decisive.pth"
    torch.save(reference.state_dict(), path)
    tops = {}
    for precision in ("float32", "bf16"):
        code, out, err = run(capsys, str(photos / "noise.png"), "--weights", str(path), "--variant", "torchvision",
                             "--format", "json", "--topk", "3", "--precision", precision)
        assert code == 0 and f"· {precision}" in err
        tops[precision] = json.loads(out)[0]["top"]
    assert tops["bf16"][0]["index"] == tops["float32"][0]["index"]
    assert tops["bf16"][0]["prob"] == pytest.approx(tops["float32"][0]["prob"], abs=0.05)
    with torch.no_grad():
        expected = reference(to_tensor(load_image(photos / "noise.png"), TORCHVISION))[0].argmax()
    assert tops["float32"][0]["index"] == int(expected)


def test_unreadable_paths_never_stop_the_rest(tmp_path: Path, capsys, monkeypatch) -> None:
    """A folder that cannot be listed, a file that cannot be looked at, a FIFO: each gets a line.

    Tests run as root here, where permissions do not bite, so the refusals the kernel would give
    another user are injected into os.stat and os.scandir for the paths named 'locked'.
    """
    import os

    good = tmp_path / "good.png"
    Image.new("RGB", (64, 48), (20, 120, 220)).save(good)
    locked_dir = tmp_path / "locked_dir"
    locked_dir.mkdir()
    Image.new("RGB", (8, 8)).save(locked_dir / "hidden.png")
    locked_file = tmp_path / "locked_parent" / "photo.jpg"
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    real_stat, real_scandir = os.stat, os.scandir

    def denied(path):
        return OSError(13, "Permission denied", str(path))

    def fake_stat(path, *args, **kwargs):
        if "locked_parent" in str(path):
            raise denied(path)
        return real_stat(path, *args, **kwargs)

    def fake_scandir(path="."):
        if "locked_dir" in str(path):
            raise denied(path)
        return real_scandir(path)

    monkeypatch.setattr(os, "stat", fake_stat)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    entries = dict(collect([str(locked_dir), str(locked_file), str(fifo), str(good)]))
    assert "No PNG, JPEG" in entries[str(locked_dir)] and "Permission denied" in entries[str(locked_dir)]
    assert "No image file" in entries[str(locked_file)] and "Permission denied" in entries[str(locked_file)]
    assert entries[str(fifo)].startswith("No image file") and "FIFO" in entries[str(fifo)]
    assert entries[str(good)] is None
    code, out, err = run(capsys, str(locked_dir), str(locked_file), str(fifo), str(good),
                         "--weights", "random", "--workers", "0", "--format", "json")
    assert code == 0 and "Traceback" not in err
    results = {r["path"]: r for r in json.loads(out)}
    assert "top" in results[str(good)] and all("error" in results[str(p)] for p in (locked_dir, locked_file, fifo))
