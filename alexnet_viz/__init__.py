"""alexnet_viz: AlexNet as data, as arithmetic and as a real PyTorch network.

Heavy imports (torch) happen only when a torch-using name is first touched, so the ledger and
the CLI's `summary` stay instant.
"""
from __future__ import annotations

import importlib
from typing import Any

from alexnet_viz.core.bookkeeping import Ledger, Row, ledger, min_input_size
from alexnet_viz.core.spec import ARTICLE, LRN, PAPER, TORCHVISION, VARIANTS, LayerSpec, Spec, get_spec
from alexnet_viz.core.weightschoice import IMAGENET, RANDOM, WeightsChoice, parse_weights
from alexnet_viz.errors import AlexVizError, ImageError, SpecError, WeightsError

_LAZY = {  # name -> the module that defines it, imported on first use
    "build_model": "core.model",
    "AlexNet": "core.model",
    "load_image": "inputs.images",
    "to_tensor": "inputs.images",
    "from_tensor": "inputs.images",
    "capture": "analysis.probe",
    "predict": "analysis.probe",
    "pick_device": "core.device",
    "load_model": "core.weights",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AlexVizError", "ImageError", "SpecError", "WeightsError", "Ledger", "Row", "ledger",
           "min_input_size", "ARTICLE", "LRN", "PAPER", "TORCHVISION", "VARIANTS", "LayerSpec", "Spec",
           "get_spec", "IMAGENET", "RANDOM", "WeightsChoice", "parse_weights", *_LAZY]
