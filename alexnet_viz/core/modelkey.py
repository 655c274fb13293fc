"""One name for "which network": (variant, weights, device), frozen and hashable.

Pages, caches and the CLI pass this one value instead of three loose strings, so a cache keyed
on it can never mix up the weights of one variant with the device of another. It imports no
torch: the architecture pages hold a key without paying for the model.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.model import AlexNet


@dataclass(frozen=True)
class ModelKey:
    """Which network: a variant name, a weights choice ("imagenet", "random" or a server path), a device."""

    variant: str
    weights: str
    device: str = "cpu"

    def load(self) -> AlexNet:
        """Build the network this key names (slow: callers cache it, e.g. ui.state.shared_model)."""
        from alexnet_viz.core.weights import load_model

        return load_model(self.variant, self.weights, device=self.device)
