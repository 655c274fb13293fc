"""The weights choice is one typed value, parsed once by parse_weights: for --weights, for $ALEXNET_WEIGHTS
and so for the app, with the case of the words handled the same way everywhere."""
from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_viz.core.weightschoice import (
    ENV_VAR,
    IMAGENET,
    RANDOM,
    WeightsChoice,
    parse_weights,
    weights_from_env,
)
from alexnet_viz.errors import WeightsError
from tests.helpers import open_page
from ui.navigation import PAGE_DIR


def test_the_words_in_any_case_and_anything_else_a_file() -> None:
    assert parse_weights("imagenet") is IMAGENET and parse_weights(" ImageNet ") == IMAGENET
    assert parse_weights("RANDOM") == RANDOM and parse_weights("random").path is None
    home = Path("~").expanduser()
    chosen = parse_weights(" ~/runs/last.pt ")
    assert chosen == WeightsChoice.file(home / "runs" / "last.pt") and chosen.kind == "file"
    assert str(chosen) == str(home / "runs" / "last.pt") and str(IMAGENET) == "imagenet" and str(RANDOM) == "random"
    assert len({parse_weights("Random"), RANDOM, parse_weights("random")}) == 1  # one cache entry


def test_empty_text_and_malformed_choices_are_refused_with_what_to_do() -> None:
    for text in ("", "   "):
        with pytest.raises(WeightsError, match="No weights chosen: use imagenet, random or the path"):
            parse_weights(text)
    with pytest.raises(WeightsError, match="choose one of imagenet, random, file"):
        WeightsChoice("imagenet1k")  # type: ignore[arg-type]
    for kind, path in (("file", None), ("random", Path("w.pth"))):
        with pytest.raises(WeightsError, match="only a file choice has one"):
            WeightsChoice(kind, path)  # type: ignore[arg-type]


def test_the_environment_goes_through_the_same_parser(monkeypatch) -> None:
    monkeypatch.setenv(ENV_VAR, " Random ")
    assert weights_from_env() == RANDOM
    monkeypatch.setenv(ENV_VAR, "  ")
    assert weights_from_env() is None
    monkeypatch.delenv(ENV_VAR)
    assert weights_from_env() is None


def test_the_app_names_the_servers_choice_as_the_command_line_does(monkeypatch) -> None:
    """ALEXNET_WEIGHTS=RANDOM loaded random weights, but the sidebar called them a file named "RANDOM"."""
    monkeypatch.setenv(ENV_VAR, "RANDOM")
    monkeypatch.setenv("ALEXNET_DEVICE", "cpu")
    at = open_page(f"{PAGE_DIR}/overview.py")
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert "Weights: **random, untrained (" in sidebar and "RANDOM" not in sidebar
