"""Build a real nn.Module from a spec, with layers reachable by their C1..F11 names.

Every variant uses torchvision's layout (features / avgpool / classifier) so torchvision's
state dict loads into the `torchvision` variant unchanged.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.names import module_plan
from alexnet_viz.core.spec import ARTICLE, LRN, LayerSpec, Spec

if TYPE_CHECKING:  # pragma: no cover
    from alexnet_viz.core.provenance import Provenance


class AlexNet(nn.Module):
    """An AlexNet built from a spec; `parts(name)` gives a numbered layer's modules by role."""

    provenance: Provenance | None
    """Where the weights came from; set by weights.load_model, None for a bare build_model()."""

    def __init__(self, spec: Spec) -> None:
        super().__init__()
        book = ledger(spec)  # validates the spec and gives every layer's input size
        self.spec = spec
        self.provenance = None
        self._paths = module_plan(spec)  # the same plan the ledger's PyTorch names come from
        seqs: dict[str, list[nn.Module]] = {"features": [], "classifier": []}
        self.avgpool: nn.Module = nn.Identity()
        for layer, row in zip(spec.layers, book.rows):
            modules = _modules(layer, row.in_shape[0])
            for role, path in self._paths[layer.name].items():
                if path == "avgpool":
                    self.avgpool = modules[role]
                    continue
                where, index = path.split(".")
                assert int(index) == len(seqs[where]), path  # the plan numbers modules in running order
                seqs[where].append(modules[role])
        self.features = nn.Sequential(*seqs["features"])
        self.classifier = nn.Sequential(*seqs["classifier"])
        _initialise(self, spec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))

    @property
    def layer_names(self) -> tuple[str, ...]:
        return self.spec.names

    def parts(self, name: str) -> dict[str, nn.Module]:
        """Role -> module for one numbered layer: conv/linear/pool, relu, lrn, dropout, adaptive."""
        return {role: self.get_submodule(path) for role, path in self._paths[name].items()}

    def part_paths(self, name: str) -> dict[str, str]:
        """Role -> qualified module name, in the order the modules run."""
        return dict(self._paths[name])

    def layer(self, name: str) -> nn.Module:
        """The layer's weighted (or pooling) module: what its filters or window live in."""
        parts = self.parts(name)
        for role in ("conv", "linear", "pool"):
            if role in parts:
                return parts[role]
        raise KeyError(name)

    def weight(self, name: str) -> torch.Tensor:
        """The layer's weight tensor (conv or linear), typed as a tensor for the callers that read it."""
        w = getattr(self.layer(name), "weight", None)
        if not isinstance(w, torch.Tensor):
            raise KeyError(f"{name} has no weights")
        return w


class GroupedLRN(nn.LocalResponseNorm):
    """PyTorch's LocalResponseNorm with windows kept inside each of `groups` channel blocks.

    In the two-GPU network each GPU normalised only its own maps (cuda-convnet2's rnorm1a/rnorm1b,
    48 channels each), so channel 47's window stops at 47 instead of reaching GPU 2's 48 and 49.
    """

    def __init__(self, lrn: LRN) -> None:
        super().__init__(lrn.size, alpha=lrn.torch_alpha, beta=lrn.beta, k=lrn.k)
        self.groups = lrn.groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.groups == 1:
            return super().forward(x)
        n, c, *rest = x.shape
        return super().forward(x.reshape(n * self.groups, c // self.groups, *rest)).reshape(x.shape)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", groups={self.groups}"


def _modules(layer: LayerSpec, in_channels: int) -> dict[str, nn.Module]:
    """One module per role `names.roles` can give this layer (the plan decides which are used)."""
    mods: dict[str, nn.Module] = {"relu": nn.ReLU(inplace=False)}
    if layer.kind == "fc":
        mods["linear"] = nn.Linear(in_channels, layer.out)
        mods["dropout"] = nn.Dropout(layer.dropout)
        return mods
    if layer.kind == "conv":
        mods["conv"] = nn.Conv2d(in_channels, layer.out, layer.kernel, layer.stride, layer.padding,
                                 groups=layer.groups)
    elif layer.kind == "maxpool":
        mods["pool"] = nn.MaxPool2d(layer.kernel, layer.stride, layer.padding)
    else:
        mods["pool"] = nn.AvgPool2d(layer.kernel, layer.stride, layer.padding)
    if layer.lrn is not None:
        mods["lrn"] = GroupedLRN(layer.lrn)
    if layer.adaptive is not None:
        mods["adaptive"] = nn.AdaptiveAvgPool2d((layer.adaptive, layer.adaptive))
    return mods


@torch.no_grad()
def _initialise(model: AlexNet, spec: Spec) -> None:
    """The paper's N(0, 0.01) weights and per-layer bias constants, or torchvision's: none of its own.

    torchvision's AlexNet keeps PyTorch's defaults (Kaiming-uniform weights with a = √5, biases
    uniform in ±1/√fan_in), which each module drew when it was built, in torchvision's order.
    """
    if spec.init != "paper":
        return
    for layer in spec.layers:
        if layer.has_params:
            module = model.layer(layer.name)
            assert isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None
            if module.weight.is_meta:  # no values to draw; normal_ on meta imports torch._dynamo (seconds)
                continue
            nn.init.normal_(module.weight, 0.0, 0.01)
            nn.init.constant_(module.bias, layer.bias_init)


def build_model(spec: Spec = ARTICLE, seed: int | None = None) -> AlexNet:
    """A fresh AlexNet for a spec, in eval mode; `seed` makes the init repeatable."""
    if seed is None:
        return AlexNet(spec).eval()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return AlexNet(spec).eval()
