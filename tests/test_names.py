"""The three names of every layer: the ledger's PyTorch paths are the real model's modules."""
from __future__ import annotations

import pytest
import torchvision
from torch import nn

from alexnet_viz import ledger
from alexnet_viz.core.model import build_model
from alexnet_viz.core.names import module_plan, paper_names
from alexnet_viz.core.spec import ARTICLE, VARIANTS
from alexnet_viz.report import render

_TYPES = {"conv": nn.Conv2d, "fc": nn.Linear, "maxpool": nn.MaxPool2d, "avgpool": nn.AvgPool2d}
# Caffe's bvlc_alexnet names for the paper's eight weighted layers and three max-pools
CAFFE = ("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5", "fc6", "fc7", "fc8")


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_torch_names_are_the_built_models_modules(variant: str) -> None:
    model = build_model(VARIANTS[variant], seed=0)
    modules = dict(model.named_modules())
    for row in ledger(variant).rows:
        assert isinstance(modules[row.torch_name], _TYPES[row.kind]), row.name
        assert modules[row.torch_name] is model.layer(row.name)
    plan = module_plan(VARIANTS[variant])
    every = {path for paths in plan.values() for path in paths.values()}
    leaves = {name for name, m in model.named_modules()
              if name and not list(m.children()) and not isinstance(m, nn.Identity)}  # Identity: no adaptive pool
    assert every == leaves  # the plan names every module the model has, and nothing else


def test_torchvision_variant_uses_torchvisions_own_paths() -> None:
    reference = torchvision.models.alexnet(weights=None)
    weighted = [name for name, m in reference.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    book = ledger("torchvision")
    assert [r.torch_name for r in book.rows if r.kind in ("conv", "fc")] == weighted
    pools = [name for name, m in reference.named_modules() if isinstance(m, nn.MaxPool2d)]
    assert [r.torch_name for r in book.rows if r.kind == "maxpool"] == pools


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_paper_names_follow_caffe(variant: str) -> None:
    assert tuple(r.paper_name for r in ledger(variant).rows) == CAFFE


def test_an_edited_spec_still_gets_unique_names() -> None:
    spec = ARTICLE.with_layer("C3", kind="maxpool", kernel=3, stride=1, padding=1)
    names = paper_names(spec)
    assert names["S2"] == "pool1" and names["C3"] == "pool1b" and names["C5"] == "conv2"
    assert len(set(names.values())) == len(names)


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_summary_shows_all_three_names(fmt: str) -> None:
    text = render(ledger("torchvision"), fmt)
    for name in ("C1", "conv1", "features.0", "F9", "fc6", "classifier.1", "pool5", "features.12"):
        assert name in text, (fmt, name)
