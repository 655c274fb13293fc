"""Hostile input to the library: weights that run code, weights for another network, image bombs.

Each hostile file is also shown to be hostile (the code-running pickle does run code when
loaded the unsafe way), so these tests fail if the library ever stops refusing them.
"""
from __future__ import annotations

import math
import os
import pickle
import struct
import zlib
from pathlib import Path

import pytest
import torch

from alexnet_viz.errors import ImageError, WeightsError


class _RunsCode:
    """Unpickling this calls os.mkdir(path): a stand-in for any code an attacker wants run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def _hostile_pth(tmp_path: Path, marker: Path) -> Path:
    path = tmp_path / "weights.pth"
    torch.save({"features.0.weight": torch.zeros(1), "payload": _RunsCode(str(marker))}, path)
    return path


def test_hostile_pickle_really_runs_code_when_loaded_unsafely(tmp_path):
    marker = tmp_path / "control-marker"
    path = _hostile_pth(tmp_path, marker)
    torch.load(path, weights_only=False)  # what an unsafe loader would do
    assert marker.exists()


def test_code_running_pickle_is_refused_without_running(tmp_path):
    from alexnet_viz.weights import load_model

    marker = tmp_path / "marker"
    path = _hostile_pth(tmp_path, marker)
    with pytest.raises(WeightsError) as err:
        load_model("article", str(path), device="cpu", progress=False)
    assert not marker.exists(), "loading the weights ran the attacker's code"
    assert "weights.pth" in str(err.value)


@pytest.fixture(scope="module")
def article_keys() -> list[str]:
    from alexnet_viz.model import build_model

    with torch.device("meta"):
        model = build_model("article")
    return list(model.state_dict())


def test_state_dict_of_another_architecture_is_refused_with_its_keys(tmp_path, article_keys):
    from alexnet_viz.weights import load_model

    other = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4, 2))
    path = tmp_path / "resnetish.pth"
    torch.save(other.state_dict(), path)
    with pytest.raises(WeightsError) as err:
        load_model("article", str(path), device="cpu", progress=False)
    message = str(err.value)
    assert "0.weight" in message and "2.weight" in message  # the keys the file has and we do not want
    assert article_keys[0] in message  # and what the network expects instead


def test_state_dict_with_right_keys_but_wrong_shapes_is_refused(tmp_path, article_keys):
    from alexnet_viz.weights import load_model

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
    from alexnet_viz.images import MAX_PIXELS, load_image

    side = math.isqrt(MAX_PIXELS) + 16  # just over the limit
    bomb = _png_header_only(side, side)
    assert len(bomb) < 200
    with pytest.raises(ImageError):
        load_image(bomb)


def test_huge_decompression_bomb_is_refused():
    from alexnet_viz.images import load_image

    with pytest.raises(ImageError):
        load_image(_png_header_only(60_000, 60_000))  # 3.6 gigapixels, ~11 GB decoded


def test_a_pickle_is_not_an_image(tmp_path):
    from alexnet_viz.images import load_image

    marker = tmp_path / "marker"
    with pytest.raises(ImageError):
        load_image(pickle.dumps(_RunsCode(str(marker))))
    assert not marker.exists()
