"""ModelKey: one hashable value names a network; equal keys are one cache entry, and load() builds it."""
from __future__ import annotations

import sys

from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.spec import ARTICLE, PAPER
from alexnet_viz.core.weightschoice import IMAGENET, RANDOM


def test_equal_keys_are_one_dictionary_entry_and_fields_tell_them_apart() -> None:
    cache = {ModelKey(ARTICLE, RANDOM, "cpu"): 1}
    assert cache[ModelKey(ARTICLE, RANDOM, "cpu")] == 1
    assert ModelKey(PAPER, RANDOM, "cpu") not in cache
    assert ModelKey(ARTICLE, IMAGENET, "cpu") not in cache


def test_load_builds_the_named_network_with_its_provenance() -> None:
    model = ModelKey(PAPER, RANDOM, "cpu").load()
    assert model.spec.name == "paper"
    assert model.provenance is not None and model.provenance.source == "random"
    assert sum(p.numel() for p in model.parameters()) == 60_965_224


def test_the_key_module_does_not_import_torch_by_itself() -> None:
    import subprocess

    code = "import sys, alexnet_viz.core.modelkey; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
