"""Which weights a network gets, as one typed value: ImageNet's, the variant's own random ones, or a file.

torchvision names weights with an enum (AlexNet_Weights.IMAGENET1K_V1, or None for random); here a
file is a third kind, so the value is a small frozen dataclass with two ready-made members,
IMAGENET and RANDOM. Text, from the command line's --weights or the server's $ALEXNET_WEIGHTS, is
parsed once, by `parse_weights`, the same way for both: the words are case-insensitive and
anything else names a file. Everything after compares kinds, never strings. No torch here: the
app holds a choice without paying for the model.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from alexnet_viz.errors import WeightsError

ENV_VAR = "ALEXNET_WEIGHTS"
WeightsKind = Literal["imagenet", "random", "file"]
KINDS: tuple[WeightsKind, ...] = ("imagenet", "random", "file")


@dataclass(frozen=True)
class WeightsChoice:
    """ImageNet's weights (torchvision's IMAGENET1K_V1), the variant's random initialisation, or a state-dict file."""

    kind: WeightsKind
    path: Path | None = None  # the file, for kind "file" only

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise WeightsError(f"Unknown kind of weights {self.kind!r}: choose one of {', '.join(KINDS)}.")
        if (self.kind == "file") != (self.path is not None):
            raise WeightsError("A weights file choice needs its path, and only a file choice has one.")

    @staticmethod
    def file(path: str | Path) -> WeightsChoice:
        """The weights in the state-dict file at `path` (~ expanded)."""
        return WeightsChoice("file", Path(path).expanduser())

    def __str__(self) -> str:
        """What a person would type for it: imagenet, random or the file's path."""
        return self.kind if self.path is None else str(self.path)


IMAGENET = WeightsChoice("imagenet")
RANDOM = WeightsChoice("random")


def parse_weights(text: str) -> WeightsChoice:
    """imagenet or random in any case, else the path of a weights file; WeightsError for empty text."""
    chosen = text.strip()
    if not chosen:
        raise WeightsError("No weights chosen: use imagenet, random or the path of a weights file.")
    word = chosen.lower()
    if word == "imagenet":
        return IMAGENET
    if word == "random":
        return RANDOM
    return WeightsChoice.file(chosen)


def weights_from_env() -> WeightsChoice | None:
    """What whoever runs this process chose in $ALEXNET_WEIGHTS; None when it is unset or blank."""
    text = os.environ.get(ENV_VAR, "").strip()
    return parse_weights(text) if text else None


__all__ = ["ENV_VAR", "IMAGENET", "KINDS", "RANDOM", "WeightsChoice", "WeightsKind", "parse_weights",
           "weights_from_env"]
