"""Which weights a model has: where they came from (for every place that shows its outputs) and one
id for caches, so a result made with one set of weights is never shown for another.
"""
from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from alexnet_viz.core.weightschoice import WeightsKind


@dataclass(frozen=True)
class Provenance:
    """Where a model's weights came from, for every place that shows its outputs."""

    source: WeightsKind
    variant: str
    file: str | None
    sha256: str | None
    accuracy: dict | None
    seed: int | None
    note: str

    def describe(self) -> str:
        """One line for people: source, file and hash, reported accuracy, caveats."""
        parts = {"imagenet": ["ImageNet-pretrained weights"], "file": ["Weights from a local file"],
                 "random": ["Random, untrained weights"]}[self.source]
        parts[0] += f" in the {self.variant} network"
        if self.file:
            parts.append(f"file {Path(self.file).name}")
        if self.sha256:
            parts.append(f"SHA-256 {self.sha256[:16]}…")
        if self.accuracy:
            parts.append("reported ImageNet " + ", ".join(f"{k} {v}%" for k, v in self.accuracy.items()))
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.note:
            parts.append(self.note)
        return " · ".join(parts)



_WEIGHT_IDS: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()


def weights_id(model: nn.Module) -> str:
    """The weights' SHA-256: the file's from the provenance, else of the tensors (once per model)."""
    prov = getattr(model, "provenance", None)
    if prov is not None and prov.sha256:
        return str(prov.sha256)
    if model not in _WEIGHT_IDS:
        digest = hashlib.sha256()
        for name, tensor in model.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().contiguous().numpy())  # the buffer itself: no copy
        _WEIGHT_IDS[model] = digest.hexdigest()
    return _WEIGHT_IDS[model]
