"""Hostile input to the library: weights that run code, weights for another network, image bombs.

Each hostile file is also shown to be hostile (the code-running pickle does run code when
loaded the unsafe way), so these tests fail if the library ever stops refusing them.
"""
from __future__ import annotations

import math
import os
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch

from alexnet_viz.core.spec import ARTICLE
from alexnet_viz.errors import ImageError, WeightsError
from tests.helpers import ROOT, RunsCode, texts

WORDS_AND_ERRORS = ("caption", "error", "markdown")



def _hostile_pth(tmp_path: Path, marker: Path) -> Path:
    path = tmp_path / "weights.pth"
    torch.save({"features.0.weight": torch.zeros(1), "payload": RunsCode(str(marker))}, path)
    return path


def test_hostile_pickle_really_runs_code_when_loaded_unsafely(tmp_path):
    marker = tmp_path / "control-marker"
    path = _hostile_pth(tmp_path, marker)
    torch.load(path, weights_only=False)  # what an unsafe loader would do
    assert marker.exists()


def test_code_running_pickle_is_refused_without_running(tmp_path):
    from alexnet_viz.core.weights import load_model

    marker = tmp_path / "marker"
    path = _hostile_pth(tmp_path, marker)
    with pytest.raises(WeightsError) as err:
        load_model("article", str(path), device="cpu", progress=False)
    assert not marker.exists(), "loading the weights ran the attacker's code"
    assert "weights.pth" in str(err.value)


@pytest.fixture(scope="module")
def article_keys() -> list[str]:
    from alexnet_viz.core.model import build_model

    with torch.device("meta"):
        model = build_model(ARTICLE)
    return list(model.state_dict())


def test_state_dict_of_another_architecture_is_refused_with_its_keys(tmp_path, article_keys):
    from alexnet_viz.core.weights import load_model

    other = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    path = tmp_path / "resnetish.pth"
    torch.save(other.state_dict(), path)
    with pytest.raises(WeightsError) as err:
        load_model("article", str(path), device="cpu", progress=False)
    message = str(err.value)
    assert "0.weight" in message and "2.weight" in message  # the keys the file has and we do not want
    assert article_keys[0] in message  # and what the network expects instead


def test_state_dict_with_right_keys_but_wrong_shapes_is_refused(tmp_path, article_keys):
    from alexnet_viz.core.weights import load_model

    path = tmp_path / "shapes.pth"
    torch.save({k: torch.zeros(1) for k in article_keys}, path)
    with pytest.raises(WeightsError) as err:
        load_model("article", str(path), device="cpu", progress=False)
    assert article_keys[0] in str(err.value)


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims width x height pixels: decoding it would allocate the full image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding():
    from alexnet_viz.inputs.images import MAX_PIXELS, load_image

    side = math.isqrt(MAX_PIXELS) + 16  # just over the limit
    bomb = _png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(ImageError):
        load_image(bomb)


def test_huge_decompression_bomb_is_refused():
    from alexnet_viz.inputs.images import load_image

    with pytest.raises(ImageError):
        load_image(_png_header_only(60_000, 60_000))  # 3.6 gigapixels, ~11 GB decoded


def test_a_pickle_is_not_an_image(tmp_path):
    from alexnet_viz.inputs.images import load_image

    marker = tmp_path / "marker"
    with pytest.raises(ImageError):
        load_image(pickle.dumps(RunsCode(str(marker))))
    assert not marker.exists()


# --- The lab's "Verify with PyTorch" has a budget (issue 12) ------------------------------------

def _killer_edit():
    """The red team's edit: 61 M parameters pass the parameter cap, 25 GiB of activations do not."""
    from alexnet_viz.core.spec import VARIANTS
    from alexnet_viz.lab import evaluate, spec_rows

    base = VARIANTS["torchvision"]
    rows = [dict(r, channels=1200, stride=1, padding=5) if r["layer"] == "C1" else
            dict(r, kernel=1) if r["layer"] == "C3" else r for r in spec_rows(base)]
    result = evaluate(base, rows, 2048)
    assert not result.errors and result.ledger.total_params < 100_000_000
    return result


def test_verify_refuses_from_the_ledger_before_building_anything(monkeypatch):
    from alexnet_viz import lab
    from alexnet_viz.core import model
    from alexnet_viz.errors import SpecError

    def must_not_build(*args, **kwargs):
        raise AssertionError("the network was built although the ledger says it is far over budget")

    monkeypatch.setattr(model, "build_model", must_not_build)
    result = _killer_edit()
    with pytest.raises(SpecError, match=r"25\.\d\d GiB of activations"):
        lab.verify_with_torch(result.spec, result.input_size)
    gentle = result.spec.with_layer("C1", out=64, stride=4, padding=2).with_layer("C3", kernel=3)
    with pytest.raises(SpecError, match="G multiply-adds"):  # small activations, too much arithmetic
        lab.verify_with_torch(gentle, 2048)


def test_verify_turns_an_allocation_failure_into_a_message(monkeypatch):
    from alexnet_viz import lab
    from alexnet_viz.core import model
    from alexnet_viz.core.spec import VARIANTS
    from alexnet_viz.errors import SpecError

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:121] DefaultCPUAllocator: not enough memory: "
                           "you tried to allocate 20132659200 bytes.")

    monkeypatch.setattr(model, "build_model", out_of_memory)
    with pytest.raises(SpecError, match="could not build or run this network") as err:
        lab.verify_with_torch(VARIANTS["article"], 224)
    assert "20132659200" in str(err.value)
    assert lab._VERIFY_SLOT.acquire(blocking=False)  # the slot was given back
    lab._VERIFY_SLOT.release()


def test_verify_budget_is_set_by_the_server_environment():
    code = "from alexnet_viz import lab; print(lab.VERIFY_MAX_ACTIVATION_BYTES, lab.VERIFY_MAX_MACS)"
    env = {**os.environ, "ALEXNET_VERIFY_MAX_ACTIVATION_MB": "64", "ALEXNET_VERIFY_MAX_GMACS": "0.5"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == [str(64 * 2**20), str(500_000_000)]


def test_lab_page_refuses_an_over_budget_verify_with_a_message():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app_pages" / "lab.py"), default_timeout=30)
    at.session_state["lab_preset"] = "torchvision"
    at.session_state["lab_input"] = 2048  # the stock network at 2048 is ~60 G multiply-adds
    at.run()
    at.button(key="verify").click().run()
    assert not at.exception
    assert any("multiply-adds" in e.value and "verifies networks up to" in e.value for e in at.error)


# --- Uploaded names and the uploader's words (issue 12) -----------------------------------------

def _feature_maps(monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("ALEXNET_WEIGHTS", "random")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=180).run()
    return at.switch_page("app_pages/feature_maps.py").run()


def test_uploaded_filename_is_shown_as_text_not_markdown_or_latex(monkeypatch):
    from tests.imagegen import sample_png_bytes

    name = "$\\rule{1200px}{900px}$ :red[big] **x**.png"
    at = _feature_maps(monkeypatch)
    at.file_uploader(key="image_upload").set_value((name, sample_png_bytes(), "image/png")).run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "your upload" in c.value)
    assert "\\$\\\\rule\\{1200px\\}\\{900px\\}\\$" in caption and "$\\rule" not in caption.replace("\\$\\", "")
    assert "\\:red\\[big\\]" in caption and "\\*\\*x\\*\\*" in caption


@pytest.mark.parametrize("name", ["tool.exe", "photo\x00.png"], ids=["extension", "nul-byte"])
def test_a_scripted_upload_with_a_refused_name_gets_a_clear_error(monkeypatch, name):
    from tests.imagegen import sample_png_bytes

    at = _feature_maps(monkeypatch)
    at.file_uploader(key="image_upload").set_value((name, sample_png_bytes(), "image/png")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("not accepted" in e.value and "MiB" in e.value for e in at.error), texts(at, WORDS_AND_ERRORS)
    assert "Chelsea the cat" in texts(at, WORDS_AND_ERRORS)  # the sample is still shown


def test_uploader_help_states_the_limit_in_mib_and_mb_and_the_media_addresses(monkeypatch):
    from streamlit import config

    at = _feature_maps(monkeypatch)
    help_text = at.get("file_uploader")[0].help
    mib = config.get_option("server.maxUploadSize")
    assert f"under {mib} MiB ({mib * 1.048576:.1f} MB)" in help_text
    assert "/media/" in help_text and "only your session shows it" not in help_text
