"""`visualize` on the command line: a gallery folder, resumable, settings kept apart, errors as messages."""
from __future__ import annotations

import json

import pytest

from alexnet_viz.analysis import featviz
from alexnet_viz.cli import main
from alexnet_viz.errors import AlexVizError
from alexnet_viz.figures.gallery import parse_channels

ARGS = ["visualize", "--layer", "C1", "--steps", "2", "--size", "32", "--weights", "random", "--device", "cpu"]


def test_parse_channels() -> None:
    assert parse_channels("0-3", 96) == [0, 1, 2, 3]
    assert parse_channels("3,7,9-11", 96) == [3, 7, 9, 10, 11]
    assert parse_channels("all", 4) == [0, 1, 2, 3]
    for bad in ("96", "x", "3-", ""):
        with pytest.raises(AlexVizError):
            parse_channels(bad, 96)


@pytest.mark.slow
def test_a_gallery_is_written_and_a_rerun_skips_finished_units(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(featviz.CACHE_ENV, str(tmp_path / "cache"))
    out = tmp_path / "gallery"
    assert main([*ARGS, "--channels", "0-1", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("article_C1_*.png")) == ["article_C1_0000.png", "article_C1_0001.png"]
    assert (out / "gallery.png").is_file() and json.loads((out / "settings.json").read_text())["layer"] == "C1"
    first = (out / "article_C1_0000.png").read_bytes()
    assert main([*ARGS, "--channels", "0-2", "--out", str(out)]) == 0
    assert "2 of 3 units already done" in capsys.readouterr().err
    assert (out / "article_C1_0002.png").is_file() and (out / "article_C1_0000.png").read_bytes() == first


@pytest.mark.slow
def test_other_settings_in_the_same_folder_and_bad_channels_are_one_line_errors(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(featviz.CACHE_ENV, str(tmp_path / "cache"))
    out = tmp_path / "gallery"
    assert main([*ARGS, "--channels", "0", "--out", str(out)]) == 0
    assert main([*ARGS, "--channels", "0", "--out", str(out), "--seed", "1"]) == 2
    assert "other settings" in capsys.readouterr().err
    assert main([*ARGS, "--channels", "96", "--out", str(tmp_path / "x")]) == 2
    assert "units 0 to 95" in capsys.readouterr().err
