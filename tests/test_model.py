"""build_model: named layers, non-inplace ReLUs, dropout, initialisation, torchvision compatibility."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from alexnet_viz import ledger
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, NAMES, PAPER, TORCHVISION


@pytest.fixture(scope="module")
def article():
    return build_model(ARTICLE, seed=0)


def test_layers_are_reachable_by_name_and_counts_match_the_ledger(article) -> None:
    assert article.layer_names == NAMES
    book = ledger("article")
    for row in book.rows:
        params = sum(p.numel() for m in article.parts(row.name).values() for p in m.parameters())
        assert params == row.params
    assert isinstance(article.layer("C1"), nn.Conv2d) and isinstance(article.layer("F11"), nn.Linear)


def test_relus_are_not_inplace_and_dropout_sits_in_f9_f10(article) -> None:
    assert all(not m.inplace for m in article.modules() if isinstance(m, nn.ReLU))
    for name in NAMES:
        assert ("dropout" in article.parts(name)) == (name in ("F9", "F10"))


def test_paper_initialisation(article) -> None:
    w = article.layer("C3").weight.detach()
    assert abs(float(w.std()) - 0.01) < 5e-4 and abs(float(w.mean())) < 5e-4
    for name, bias in (("C1", 0.0), ("C3", 1.0), ("C5", 0.0), ("C6", 1.0), ("C7", 1.0), ("F9", 1.0),
                       ("F10", 1.0), ("F11", 0.0)):
        assert torch.all(article.layer(name).bias == bias), name


def test_seed_makes_the_init_repeatable_without_touching_global_rng() -> None:
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = build_model(TORCHVISION, seed=7)
    after = torch.rand(1)
    b = build_model(TORCHVISION, seed=7)
    assert torch.equal(before, after)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_torchvision_initialisation_is_torchvisions_own() -> None:
    """torchvision's AlexNet keeps PyTorch's defaults: same seed, same draws, same statistics."""
    torch.manual_seed(3)
    reference = torchvision.models.alexnet()
    ours = build_model(TORCHVISION, seed=3)
    for (name, a), b in zip(reference.state_dict().items(), ours.state_dict().values()):
        assert torch.equal(a, b), name
    c1_bias, f9_weight = ours.layer("C1").bias.detach(), ours.layer("F9").weight.detach()
    bound = 1 / (3 * 11 * 11) ** 0.5  # uniform(±1/sqrt(fan_in)): std = bound / sqrt(3)
    assert abs(float(c1_bias.std()) - bound / 3 ** 0.5) < 0.006 and float(c1_bias.abs().max()) <= bound
    assert abs(float(f9_weight.std()) - 1 / (3 * 9216) ** 0.5) < 2e-4  # Kaiming-uniform a=sqrt(5)
    assert float(c1_bias.std()) > 0.01  # not the zero biases of a VGG-style init


def test_torchvision_state_dict_loads_unchanged_and_computes_the_same() -> None:
    reference = torchvision.models.alexnet().eval()
    ours = build_model(TORCHVISION)
    ours.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))


def test_paper_has_groups_and_krizhevskys_lrn() -> None:
    """cuda-convnet2 divides the 0.0001 by n (layer.py:1331): PyTorch's alpha=1e-4, within each GPU's maps."""
    paper = build_model(PAPER, seed=0)
    assert [paper.layer(n).groups for n in ("C1", "C3", "C5", "C6", "C7")] == [1, 2, 1, 2, 2]
    lrn = paper.parts("C1")["lrn"]
    assert (lrn.size, lrn.alpha, lrn.beta, lrn.k, lrn.groups) == (5, pytest.approx(1e-4), 0.75, 2.0, 2)
    assert paper.parts("C3")["lrn"].groups == 2
    assert "lrn" not in paper.parts("C5")
    # a large map on GPU 2's first channel (48) must not reach GPU 1's last (47), as it would in one window
    x = torch.ones(1, 96, 2, 2)
    x[0, 48] = 1000.0
    with torch.no_grad():
        out = lrn(x)
    assert torch.equal(out[0, 47], lrn(torch.ones(1, 96, 2, 2))[0, 47])
    assert out[0, 49].max() < out[0, 46].max()
    with torch.no_grad():
        assert paper(torch.zeros(1, 3, 227, 227)).shape == (1, 1000)
