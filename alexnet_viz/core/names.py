"""Each layer's three names, and where its modules sit in the PyTorch model, from the spec alone.

People meet AlexNet's layers under three names: the article's C1…F11 (the spec's own names), the
paper's conv1…fc8 and PyTorch's module path (`features.0` … `classifier.6`, also what Netron
shows for an exported model). Pure spec arithmetic, no torch: the ledger, `summary` and hover
text show the names instantly, and `model.AlexNet` builds its Sequentials from `module_plan`, so
the paths shown here are the paths of the real modules.
"""
from __future__ import annotations

from alexnet_viz.core.spec import ARTICLE, LayerSpec, Spec

ARTICLE_SOURCE = f"{ARTICLE.source}, its layer table: C1 … F11 (the spec's own names)"
PAPER_SOURCE = ("Krizhevsky et al. 2012, Section 3.5: 'the net contains eight layers with weights; the first five "
                "are convolutional and the remaining three are fully-connected'; Caffe's bvlc_alexnet numbers them "
                "conv1…conv5, fc6…fc8 and names each max-pool after the conv it follows (pool1, pool2, pool5)")
TORCH_SOURCE = "the module's qualified name in PyTorch (model.named_modules(); Netron shows the same path)"


def roles(layer: LayerSpec, dropout_first: bool) -> tuple[str, ...]:
    """The modules of one numbered layer by role, in the order they run."""
    if layer.kind == "fc":
        core: list[str] = ["linear"] + (["relu"] if layer.relu else [])
        if layer.dropout:
            return tuple(["dropout", *core] if dropout_first else [*core, "dropout"])
        return tuple(core)
    out = ["conv" if layer.kind == "conv" else "pool"]
    out += ["relu"] if layer.relu else []
    out += ["lrn"] if layer.lrn is not None else []
    out += ["adaptive"] if layer.adaptive is not None else []
    return tuple(out)


def module_plan(spec: Spec) -> dict[str, dict[str, str]]:
    """Layer name -> {role: qualified module name}, in running order: torchvision's layout.

    Spatial layers fill `features`, fc layers `classifier`, one index per module; an adaptive pool
    on the last spatial layer is torchvision's separate `avgpool`, so its weights load unchanged.
    """
    last_spatial = max((i for i, layer in enumerate(spec.layers) if layer.is_spatial), default=-1)
    counts = {"features": 0, "classifier": 0}
    plan: dict[str, dict[str, str]] = {}
    for i, layer in enumerate(spec.layers):
        where = "features" if layer.is_spatial else "classifier"
        paths: dict[str, str] = {}
        for role in roles(layer, spec.dropout_first):
            if role == "adaptive" and i == last_spatial:
                paths[role] = "avgpool"
                continue
            paths[role] = f"{where}.{counts[where]}"
            counts[where] += 1
        plan[layer.name] = paths
    return plan


def torch_names(spec: Spec) -> dict[str, str]:
    """Layer name -> the path of its weighted (or pooling) module: `features.0` for C1."""
    main = ("conv", "linear", "pool")
    return {name: next(paths[r] for r in main if r in paths) for name, paths in module_plan(spec).items()}


def paper_names(spec: Spec) -> dict[str, str]:
    """Layer name -> the paper's numbering: weighted layers counted in order, pools after their conv.

    For the presets: conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5, fc6, fc7, fc8. An
    edited spec gets the same rule (a second pool after the same conv is `pool2b`).
    """
    names: dict[str, str] = {}
    weighted = 0
    taken: set[str] = set()
    for layer in spec.layers:
        if layer.has_params:
            weighted += 1
            name = f"{'conv' if layer.kind == 'conv' else 'fc'}{weighted}"
        else:
            name = f"pool{weighted}"
        while name in taken:
            name += "b"
        taken.add(name)
        names[layer.name] = name
    return names


__all__ = ["ARTICLE_SOURCE", "PAPER_SOURCE", "TORCH_SOURCE", "module_plan", "paper_names", "roles", "torch_names"]
