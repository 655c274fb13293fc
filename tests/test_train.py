"""Training: recipes, the folder dataset, sampling, the run directory, resume, DDP and the CLI.

Training runs use the demo generator at tiny scale (two images a class) and a few steps; the
demo's torchvision network at 64 px still carries its 58M parameters, so those tests are slow.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from alexnet_viz.core.weights import load_model
from alexnet_viz.errors import AlexVizError
from alexnet_viz.train import demo, runs
from alexnet_viz.train.config import DEMO_RECIPE, resolve
from alexnet_viz.train.data import Augment, EpochSampler, FolderImages, collate, discover, eval_view, train_view
from alexnet_viz.train.loop import Trainer
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.make_dataset(tmp_path_factory.mktemp("demo"), per_class=2, val_per_class=1, seed=3)


def tiny_config(data: Path, run: Path, full_head: bool = False, **changes: object):
    """The demo recipe (narrow head) on the tiny set; full_head: torchvision's recipe at 64 px, whose
    checkpoint is a whole torchvision network."""
    base: dict[str, object] = {"data": str(data), "run_dir": str(run), "batch_size": 8, "epochs": 2, "workers": 0,
                               "log_every": 1, "ten_crop": False, "progress": False, "threads": 1}
    base.update(changes)
    if full_head:
        return resolve("torchvision", input_size=64, resize=72, **base)
    return resolve(demo=True, **base)


# --- recipes ----------------------------------------------------------------------------------

def test_paper_recipe_is_the_default_for_paper_and_article(tmp_path: Path) -> None:
    for variant in ("paper", "article"):
        c = resolve(variant, data=str(tmp_path))
        assert (c.batch_size, c.momentum, c.weight_decay, c.lr, c.epochs) == (128, 0.9, 5e-4, 0.01, 90)
        assert (c.schedule, c.lr_factor, c.pca_std, c.flip, c.ten_crop, c.crop) == ("plateau", 0.1, 0.1, True, True,
                                                                                    "random")
    tv = resolve("torchvision", data=str(tmp_path))
    assert (tv.weight_decay, tv.schedule, tv.step_size, tv.crop, tv.pca_std) == (1e-4, "step", 30, "random-resized", 0)


def test_train_help_says_where_each_variant_drops_out(capsys) -> None:
    """Paper and article drop F9's and F10's outputs (Sec 4.2); only torchvision drops their inputs."""
    from alexnet_viz.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "before F9 and F10" not in text
    assert "article/paper: on F9's and F10's outputs, after their ReLU" in text
    assert "torchvision: on their inputs, before each Linear" in text


def test_paper_recipe_states_its_preprocessing_departure() -> None:
    """Sec 2 only subtracts the mean image; the recipe's ImageNet mean/std normalisation is said in config.json."""
    config = resolve("paper", demo=False, data="somewhere")
    assert "Sec 2" in config.extras["source"]
    assert "mean image" in config.extras["preprocessing"] and "standard deviation" in config.extras["preprocessing"]
    assert "preprocessing" in json.loads(config.to_json())["extras"]


def test_flags_override_and_the_run_dir_defaults_under_alexnet_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ALEXNET_RUNS", str(tmp_path))
    c = resolve("article", data="x", lr=0.05, flip=False)
    assert (c.lr, c.flip, c.variant) == (0.05, False, "article")
    assert Path(c.run_dir).parent == tmp_path and "paper-article" in Path(c.run_dir).name


@pytest.mark.parametrize("given,words", [({}, "--data"), ({"data": "x", "batch_size": 0}, "--batch-size"),
                                         ({"data": "x", "bogus": 1}, "bogus")])
def test_bad_configs_are_one_clear_error(given: dict, words: str) -> None:
    with pytest.raises(AlexVizError, match=words):
        resolve("article", **given)


# --- data ---------------------------------------------------------------------------------------

def test_train_and_val_folders_are_read_in_class_order(tiny: Path) -> None:
    split = discover(tiny)
    assert split.classes == tuple(sorted(demo.CLASSES))
    assert len(split.train) == 2 * len(demo.CLASSES) and len(split.val) == len(demo.CLASSES)
    assert all(Path(f).parent.name == split.classes[label] for f, label in split.train + split.val)


def test_one_folder_is_split_per_class_by_the_seed(tiny: Path) -> None:
    a, b = discover(tiny / "train", 0.5, 1), discover(tiny / "train", 0.5, 1)
    assert a == b and len(a.train) == len(a.val) == len(demo.CLASSES)
    assert {label for _, label in a.val} == set(range(len(demo.CLASSES)))
    assert not set(a.train) & set(a.val)


def test_no_images_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "cats").mkdir()
    (tmp_path / "cats" / "notes.txt").write_text("no pictures here")
    with pytest.raises(AlexVizError, match="No images in"):
        discover(tmp_path)
    with pytest.raises(AlexVizError, match="No folder"):
        discover(tmp_path / "missing")


def test_an_unreadable_image_is_skipped_with_one_line(tmp_path: Path, capsys) -> None:
    good = tmp_path / "a" / "good.png"
    good.parent.mkdir()
    from PIL import Image

    Image.fromarray(demo.sample(0, np.random.default_rng(0))).save(good)
    bad = tmp_path / "a" / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n broken")
    items = ((str(good), 0), (str(bad), 0))
    data = FolderImages(items, Augment(64, 72, flip=False), seed=0, train=True)
    x, y, skipped = collate([data[(0, 0)], data[(1, 0)]])
    assert x.shape == (1, 3, 64, 64) and y.tolist() == [0] and skipped == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"skipped {bad}")


def test_augmentation_depends_only_on_seed_epoch_and_index(tiny: Path) -> None:
    split = discover(tiny)
    aug = Augment(64, 72, flip=True, pca_std=0.1, eigval=(0.05, 0.01, 0.001))
    data = FolderImages(split.train, aug, seed=5, train=True)
    assert torch.equal(data[(3, 1)][0], data[(3, 1)][0])
    assert not torch.equal(data[(3, 1)][0], data[(3, 2)][0])


def test_paper_crops_and_ten_crop_evaluation() -> None:
    from PIL import Image

    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8))
    aug = Augment(224, 256)
    x = train_view(image, aug, np.random.default_rng(0))
    assert x.shape == (3, 224, 224)
    ten = eval_view(image, aug, ten=True)
    assert ten.shape == (10, 3, 224, 224)
    assert torch.equal(ten[4], eval_view(image, aug)) and torch.equal(ten[9], ten[4].flip(-1))


def test_ranks_together_see_the_one_process_batches_and_skip_resumes_mid_epoch() -> None:
    one = EpochSampler(40, rank=0, world=1, seed=7)
    one.set_epoch(2)
    whole = [i for i, _ in one]
    shards = []
    for rank in range(2):
        s = EpochSampler(40, rank=rank, world=2, seed=7)
        s.set_epoch(2)
        shards.append([i for i, _ in s])
    for b in range(5):  # global batch 8 = two local batches of 4
        assert sorted(shards[0][4 * b:4 * b + 4] + shards[1][4 * b:4 * b + 4]) == sorted(whole[8 * b:8 * b + 8])
    one.set_epoch(2, skip=16)
    assert [i for i, _ in one] == whole[16:] and all(e == 2 for _, e in one)


# --- runs ---------------------------------------------------------------------------------------

def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / runs.WEIGHTS, map_location="cpu", weights_only=True)


def _losses(run: Path) -> list[float]:
    return [r["loss"] for r in runs.read_metrics(run) if r["kind"] == "train"]


@pytest.mark.slow
def test_a_run_directory_holds_config_metrics_filters_and_a_weights_file(tiny: Path, tmp_path: Path) -> None:
    from alexnet_viz.train.loop import train

    run = tmp_path / "run"
    result = train(tiny_config(tiny, run, full_head=True, epochs=1, ten_crop=True))
    assert result.stopped == "done" and result.epoch == 1 and result.global_step == 3  # 24 images, batch 8
    config = json.loads((run / runs.CONFIG).read_text())
    assert config["batch_size"] == 8 and config["variant"] == "torchvision" and config["recipe"] == "torchvision"
    assert json.loads((run / runs.FITS).read_text()) == ["torchvision"]
    kinds = [r["kind"] for r in runs.read_metrics(run)]
    assert kinds == ["train", "train", "train", "val", "test", "end"]
    first = runs.read_metrics(run)[0]
    assert {"loss", "acc", "lr", "images_per_s", "epoch", "step"} <= first.keys()
    assert runs.filter_epochs(run) == [0, 1] and np.load(runs.filter_file(run, 1)).shape == (64, 3, 11, 11)
    state = torch.load(run / runs.STATE, map_location="cpu", weights_only=True)
    assert {"model", "optimizer", "scheduler", "rng", "epoch", "step_in_epoch", "global_step"} <= state.keys()
    model = load_model("torchvision", run / runs.WEIGHTS)  # the project's own loader: a weights file
    assert model.provenance.source == "file"
    assert torch.equal(model.layer("C1").weight, torch.from_numpy(np.load(runs.filter_file(run, 1))))
    assert json.loads((run / runs.CLASSES).read_text()) == sorted(demo.CLASSES)


@pytest.mark.slow
@pytest.mark.parametrize("stop_after", [1, 4])  # mid first epoch; mid second epoch (3 steps an epoch)
def test_a_resumed_run_equals_an_uninterrupted_one(tiny: Path, tmp_path: Path, stop_after: int) -> None:
    from alexnet_viz.train.loop import resume_config, train

    whole = tmp_path / "whole"
    train(tiny_config(tiny, whole))
    parts = tmp_path / "parts"
    first = train(tiny_config(tiny, parts, max_steps=stop_after))
    assert first.stopped == "max_steps" and first.global_step == stop_after
    with pytest.raises(AlexVizError, match="--resume"):
        train(tiny_config(tiny, parts))
    assert train(resume_config(parts)).stopped == "done"
    assert _losses(parts) == _losses(whole)  # dropout on: the RNG came back exactly
    a, b = _weights(whole), _weights(parts)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_fewer_than_five_classes_validate_and_save_the_epoch(tiny: Path, tmp_path: Path) -> None:
    """Top-5 on two classes is top-2: the first validation used to fail (k out of range) and lose the epoch."""
    import shutil

    from alexnet_viz.train.loop import train

    two = tmp_path / "two"
    for sub in ("train", "val"):
        for name in sorted(p.name for p in (tiny / sub).iterdir())[:2]:
            shutil.copytree(tiny / sub / name, two / sub / name)
    result = train(tiny_config(two, tmp_path / "run", batch_size=4, epochs=1, ten_crop=True))  # demo: --num-classes 0
    assert result.stopped == "done" and result.epoch == 1 and (tmp_path / "run" / runs.WEIGHTS).is_file()
    val = [r for r in runs.read_metrics(tmp_path / "run") if r["kind"] == "val"][0]
    assert val["val_top5"] == 1.0 and 0.0 <= val["val_top1"] <= 1.0  # two classes: the top 2 hold every label


def test_a_head_narrower_than_the_classes_is_one_line_before_training(tiny: Path, tmp_path: Path) -> None:
    """Re-attack of issue 24: --num-classes 1 on two classes crashed in cross-entropy (IndexError: Target 1
    is out of bounds) after the data had loaded."""
    from alexnet_viz.errors import AlexVizError
    from alexnet_viz.train.loop import train

    with pytest.raises(AlexVizError, match=r"The data has \d+ classes but F11 has 1 outputs: give --num-classes"):
        train(tiny_config(tiny, tmp_path / "run", batch_size=4, epochs=1, num_classes=1))


def _cli(*args: str, env: dict | None = None, torchrun: int = 0) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={torchrun}"] \
        if torchrun else [sys.executable]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([*launcher, "-m", "alexnet_viz", "train", *args], capture_output=True, text=True,
                          check=False, timeout=600, cwd=ROOT, env=full_env)


@pytest.mark.slow
def test_demo_from_the_command_line_at_tiny_scale(tmp_path: Path) -> None:
    out = _cli("--demo", "--demo-per-class", "2", "--batch-size", "8", "--epochs", "1", "--workers", "1",
               "--no-progress", env={"ALEXNET_RUNS": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-2000:]
    run = next(p for p in tmp_path.iterdir() if p.name.startswith("demo-torchvision-"))
    assert "validation top-1" in out.stderr and (run / runs.WEIGHTS).is_file()
    assert json.loads((run / runs.FITS).read_text()) == []  # the demo's narrowed head fits no variant
    assert (tmp_path / ".data" / f"demo{demo.VERSION}-2" / "train" / "red-green-045").is_dir()


@pytest.mark.slow
def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    out = _cli("--data", str(tmp_path), "--run-dir", str(tmp_path / "r"), "--no-progress")
    assert out.returncode == 2 and "Traceback" not in out.stderr and "No images in" in out.stderr
    out = _cli("--resume")
    assert out.returncode == 2 and "--run-dir" in out.stderr


def _said(out: subprocess.CompletedProcess) -> str:
    """Head and tail of a launch's stderr: torchrun's summary at the end buries the rank's own error."""
    err = out.stderr
    return err if len(err) <= 6000 else f"{err[:3000]}\n...\n{err[-3000:]}"


# --- DDP (CPU, gloo, two processes) --------------------------------------------------------------

DDP_TOLERANCE = 1e-4  # relative, per logged loss: float32 sums of the same gradients in another order
# The weights cannot be compared to float precision. Two processes compute each half batch with other
# kernels than one process computes the whole (another summation order), and a ReLU whose input is
# within rounding of 0 then opens in one run and stays shut in the other: on a Xeon with AMX, one of
# the 18,432 C6 outputs of step 2's batch (+1.0e-8 in float32, -8.2e-8 in float64) carried ~1 % of
# every lower layer's gradient. So the runs must agree to within a small share of how far
# training moved each tensor (measured there: at most 2.6 % after 4 steps; 0 elsewhere); a two-process
# run that did not average its gradients, or summed them, would differ by about as much as it moved.
DDP_WEIGHT_SHARE = 0.1


@pytest.mark.slow
def test_two_processes_follow_the_one_process_loss_curve(tiny: Path, tmp_path: Path) -> None:
    """Same seed, same global batch (8 = 2 x 4). Dropout is off (--dropout 0): with it on, each rank
    draws its own masks, so the curves would differ by design; augmentation is per sample already."""
    common = ("--data", str(tiny), "--batch-size", "8", "--epochs", "2", "--workers", "0", "--log-every", "1",
              "--dropout", "0", "--no-ten-crop", "--no-progress", "--demo")
    one = _cli(*common, "--run-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-2000:]
    two = _cli(*common, "--run-dir", str(tmp_path / "two"), torchrun=2)
    assert two.returncode == 0, _said(two)
    a, b = _losses(tmp_path / "one"), _losses(tmp_path / "two")
    assert len(a) == len(b) == 6
    assert np.allclose(a, b, rtol=DDP_TOLERANCE, atol=0), (a, b)
    wa, wb = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    w0 = Trainer(tiny_config(tiny, tmp_path / "init", dropout=0.0, threads=None)).model.state_dict()
    share = {k: float((wa[k] - wb[k]).norm() / (wa[k] - w0[k]).norm()) for k in wa}
    assert max(share.values()) < DDP_WEIGHT_SHARE, share
    # a resumed two-process run equals the uninterrupted one
    part = _cli(*common, "--run-dir", str(tmp_path / "part"), "--max-steps", "4", torchrun=2)
    assert part.returncode == 0 and "--resume" in part.stderr, _said(part)
    rest = _cli("--resume", "--run-dir", str(tmp_path / "part"), "--no-progress", torchrun=2)
    assert rest.returncode == 0, _said(rest)
    assert _losses(tmp_path / "part") == b
    wp = _weights(tmp_path / "part")
    assert all(torch.equal(wp[k], wb[k]) for k in wb)


@pytest.mark.slow
def test_two_machines_as_two_agents_with_a_static_rendezvous_on_loopback(tiny: Path, tmp_path: Path) -> None:
    """What docs/TRAINING.md tells two machines to run, on one: two torchrun agents (--nnodes 2, one process
    each, --node-rank 0 and 1) meet at --master-addr:--master-port (the static rendezvous) and train as one
    two-process run, whose losses follow the one-process run's."""
    from devtools.server import free_port

    common = ("--data", str(tiny), "--batch-size", "8", "--epochs", "1", "--workers", "0", "--log-every", "1",
              "--dropout", "0", "--no-ten-crop", "--no-progress", "--demo")
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    agents = [subprocess.Popen([sys.executable, "-m", "torch.distributed.run", "--nnodes=2", "--nproc-per-node=1",
                                f"--node-rank={rank}", "--master-addr=127.0.0.1", f"--master-port={port}",
                                "-m", "alexnet_viz", "train", *common, "--run-dir", str(tmp_path / "nodes")],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for rank in (0, 1)]
    ends = [agent.communicate(timeout=600) for agent in agents]
    for agent, (_, err) in zip(agents, ends, strict=True):
        assert agent.returncode == 0, err[-3000:]
    one = _cli(*common, "--run-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr[-2000:]
    a, b = _losses(tmp_path / "one"), _losses(tmp_path / "nodes")
    assert len(a) == len(b) == 3 and np.allclose(a, b, rtol=DDP_TOLERANCE, atol=0), (a, b)
    assert (tmp_path / "nodes" / runs.WEIGHTS).is_file()


def test_demo_recipe_states_what_it_changed() -> None:
    assert DEMO_RECIPE.variant == "torchvision" and not DEMO_RECIPE.flip
    assert replace(DEMO_RECIPE, lr=1.0).lr == 1.0


def test_relu_vs_tanh_at_tiny_scale_writes_its_figure_data(tmp_path: Path) -> None:
    from alexnet_viz.train import experiment

    out = tmp_path / "fig1.json"
    result = experiment.run(dataset="demo", epochs=2, images=60, batch=20, lrs=(0.01,), out=out, threads=1)
    saved = json.loads(out.read_text())
    assert [c["activation"] for c in saved["curves"]] == ["relu", "tanh"] and saved["dataset"] == "demo"
    assert all(0 <= e <= 1 for c in result.curves for e in c.train_error)
    assert "not CIFAR-10" in saved["note"] and "six times" in experiment.describe(result)
    assert experiment.four_layer("tanh")(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.slow
def test_ctrl_c_saves_and_exits_cleanly_then_resume_finishes(tiny: Path, tmp_path: Path) -> None:
    import signal
    import time

    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "alexnet_viz", "train", "--demo", "--data", str(tiny), "--run-dir", str(run),
           "--batch-size", "8", "--epochs", "50", "--log-every", "1", "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 300  # wait for the first step, however slow the machine; not a timing assertion
    while not runs.read_metrics(run) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130 and "Traceback" not in err and "--resume" in err, err[-2000:]
    assert runs.read_metrics(run)[-1] == {**runs.read_metrics(run)[-1], "kind": "end", "stopped": "interrupted"}
    state = torch.load(run / runs.STATE, map_location="cpu", weights_only=True)
    assert state["global_step"] >= 1
    out = _cli("--resume", "--run-dir", str(run), "--epochs", "1", "--no-progress")
    assert out.returncode == 0, out.stderr[-2000:]
