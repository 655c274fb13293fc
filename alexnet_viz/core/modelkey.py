"""One name for "which network": (spec, weights, device), frozen and hashable.

Pages, caches and the CLI pass this one value instead of three loose strings, so a cache keyed
on it can never mix up the weights of one variant with the device of another. The variant is
already a Spec and the weights a WeightsChoice: whoever makes a key resolves both once, and
everything downstream reads them. It imports no torch: the architecture pages hold a key
without paying for the model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alexnet_viz.core.spec import Spec
from alexnet_viz.core.weightschoice import WeightsChoice

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.model import AlexNet


@dataclass(frozen=True)
class ModelKey:
    """Which network: a variant's spec, a weights choice (IMAGENET, RANDOM or a server file), a device."""

    spec: Spec
    weights: WeightsChoice
    device: str = "cpu"

    @property
    def variant(self) -> str:
        return self.spec.name

    def load(self) -> AlexNet:
        """Build the network this key names (slow: callers cache it, e.g. ui.state.shared_model)."""
        from alexnet_viz.core.weights import load_model

        return load_model(self.spec, self.weights, device=self.device)
