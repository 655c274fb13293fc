"""Training memory measured on a real model: what autograd saves for backward, not a hand count.

A hand count (every layer output twice, every gradient resident at once) overstates the need.
Here a real network of the spec runs one training-mode forward pass under
`torch.autograd.graph.saved_tensors_hooks`, and every tensor autograd keeps is counted once (by
its storage), parameters excluded. What is saved grows linearly with the batch (each image keeps
its own maps, masks and pooling indices), so two small batches give the slope and the intercept
and the batch of 128 follows without running it; tests check that against direct measurements.
The pass runs on PyTorch's meta device: the same layers and the same autograd graph, with shapes
and dtypes but no data, so it saves exactly the tensors a CPU pass saves (a test compares the two)
in a tenth of a second instead of seconds, and a server can show it on its first visit.

The sum (weights, gradients, momentum and every saved tensor) is an estimate of the peak, not a
floor: gradients of the convolutions appear only after the fully connected layers' saved tensors
are freed. `step_peak` measures the real peak of one SGD step with the profiler's allocator
events, and the tests hold the estimate to it (on this CPU at batch 128 it is 1.5 % above).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from alexnet_viz.core.bookkeeping import BYTES_PER_FLOAT32, ledger
from alexnet_viz.core.spec import Spec

MEASURED_BATCHES = (1, 2)

ASSUMPTIONS: tuple[str, ...] = (
    "float32 everywhere",
    "SGD with momentum: weights, their gradients and one momentum buffer",
    ("what autograd saves at batch B is measured at batches 1 and 2 on a real model in training mode "
     "(dropout on; run on PyTorch's meta device, which saves the same tensors without computing them) "
     "and extended linearly"),
    ("at the start of backward every saved tensor is alive, and the fully connected layers' weight gradients "
     "(most of all the gradients) appear before any convolution's saved tensors are freed; so weights, "
     "gradients, momentum and saved tensors together estimate the peak (the profiler's peak of one real SGD step "
     "on the CPU is a little lower, tests/test_training_memory.py)"),
    "no framework workspace, data-loading buffers or allocator slack",
)


@dataclass(frozen=True)
class TrainingMemory:
    """Bytes one training step holds, for a spec at a batch size."""

    variant: str
    batch: int
    input_size: int
    params: int
    weights: int  # float32 weights
    saved_per_image: int  # what autograd saves, per image (measured)
    saved_fixed: int  # what it saves whatever the batch (measured; 0 for these networks)
    gradient_pair_per_image: int  # the largest output + input gradient alive at once in one module's backward

    @property
    def weights_grads_momentum(self) -> int:
        return 3 * self.weights

    @property
    def saved(self) -> int:
        return self.saved_fixed + self.saved_per_image * self.batch

    @property
    def gradient_pair(self) -> int:
        return self.gradient_pair_per_image * self.batch

    @property
    def estimate(self) -> int:
        """Weights, gradients, momentum and every saved tensor: nearly all alive together early in backward,
        so this estimates the peak (a little high: the convolutions' gradients come after some frees)."""
        return self.weights_grads_momentum + self.saved

    @property
    def upper_bound(self) -> int:
        """The estimate plus the largest pair of activation gradients: a bound, well above the peak
        (by the time that pair is alive, most saved tensors have been freed)."""
        return self.estimate + self.gradient_pair


def saved_bytes(model: nn.Module, batch: int, input_size: int, seed: int = 0) -> int:
    """Bytes autograd saves for backward in one training-mode forward pass, each storage counted once."""
    # Storages are told apart by their C++ object, not their address: meta tensors have none.
    params = {p.untyped_storage()._cdata for p in model.parameters()}
    storages: dict[int, int] = {}
    # Detached references keep every saved storage alive until the count is done, so a freed one's
    # address cannot be reused and counted twice. pack returns nothing: returning the tensor itself
    # ties it to its own grad_fn in a reference cycle that held ~1 GB per server process until a
    # garbage collection happened to run (torch's saved_tensors_hooks docstring warns of this).
    keep: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> None:
        storage = t.untyped_storage()
        if storage._cdata not in params:
            storages[storage._cdata] = storage.nbytes()
        keep.append(t.detach())

    def unpack(_: None) -> torch.Tensor:
        raise RuntimeError("saved_bytes only counts; nothing here runs backward")

    gen = torch.Generator().manual_seed(seed)
    x = _batch(model, batch, input_size, gen)
    was_training = model.training
    model.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            model(x)
    finally:
        model.train(was_training)
    return sum(storages.values())


def _batch(model: nn.Module, batch: int, input_size: int, gen: torch.Generator) -> torch.Tensor:
    """A seeded input batch on the model's device; on the meta device only its shape (it holds no values)."""
    device = next(model.parameters()).device
    if device.type == "meta":
        return torch.empty(batch, 3, input_size, input_size, device=device)
    return torch.randn(batch, 3, input_size, input_size, generator=gen)


def gradient_pair_per_image(spec: Spec) -> int:
    """Largest (output + input) activation gradient of one module, per image, from the ledger.

    In backward a module turns its output's gradient into its input's; both are alive together.
    The image itself needs no gradient, and a ReLU or dropout keeps its layer's size.
    """
    book = ledger(spec)
    best = 0
    for i, row in enumerate(book.rows):
        out = row.activations
        inp = 0 if i == 0 else book.rows[i - 1].activations
        parts = [out + inp]  # the conv, linear or pool itself
        if spec.layers[i].relu or spec.layers[i].lrn is not None or spec.layers[i].dropout:
            parts.append(2 * out)  # an element-wise step after it
        best = max(best, *parts)
    return best * BYTES_PER_FLOAT32


def step_peak(model: nn.Module, batch: int, input_size: int, seed: int = 0) -> int:
    """Peak bytes held during one real SGD step (forward, loss, backward, momentum update), measured.

    A first step creates the momentum buffers; the second, with its gradients set to None as a
    training loop does, is profiled, and the allocator's events give the most bytes alive at once
    above what was allocated before it. Weights, momentum and the input batch are added back. It
    trains `model` by two small steps, so pass one of your own. Slow at large batches (a real step
    on the CPU): tests run it, the pages use the estimate.
    """
    from torch.profiler import ProfilerActivity, profile

    gen = torch.Generator().manual_seed(seed)
    x = _batch(model, batch, input_size, gen)
    classes = [m for m in model.modules() if isinstance(m, nn.Linear)][-1].out_features
    y = torch.randint(0, classes, (batch,), generator=gen)
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)
    was_training = model.training
    model.train()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    try:
        step()
        opt.zero_grad(set_to_none=True)
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            step()
    finally:
        opt.zero_grad(set_to_none=True)
        model.train(was_training)
    changes = sorted(((e.time_range.start, e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage)
                      for e in prof.profiler.function_events), key=lambda c: (c[0], -c[1]))  # ties: allocate first
    held = peak = 0
    for _, change in changes:
        held += change
        peak = max(peak, held)
    weights = sum(p.untyped_storage().nbytes() for p in model.parameters())
    return 2 * weights + x.untyped_storage().nbytes() + peak  # weights and momentum existed before the step


@lru_cache(maxsize=8)
def training_memory(spec: Spec, batch: int = 128) -> TrainingMemory:
    """Measure once per spec and batch (cached: the errata and the app ask for the same numbers)."""
    from alexnet_viz.core.model import AlexNet

    with torch.device("meta"):
        model = AlexNet(spec)
    small, large = MEASURED_BATCHES
    at_small = saved_bytes(model, small, spec.input_size)
    at_large = saved_bytes(model, large, spec.input_size)
    per_image = (at_large - at_small) // (large - small)
    book = ledger(spec)
    return TrainingMemory(variant=spec.name, batch=batch, input_size=spec.input_size,
                          params=book.total_params, weights=book.total_params * BYTES_PER_FLOAT32,
                          saved_per_image=per_image, saved_fixed=at_small - per_image * small,
                          gradient_pair_per_image=gradient_pair_per_image(spec))


def breakdown(mems: tuple[TrainingMemory, ...]) -> list[dict[str, object]]:
    """One row per quantity, one column per network (MiB), for a page's table."""
    quantities = (("weights", "weights"), ("weights, gradients, momentum", "weights_grads_momentum"),
                  ("saved by autograd for backward", "saved"), ("estimated peak (the sum of both)", "estimate"),
                  ("largest pair of live activation gradients", "gradient_pair"),
                  ("upper bound (estimate + that pair)", "upper_bound"))
    columns = {m: f"{m.variant}, {m.input_size}², batch {m.batch} (MiB)" for m in mems}
    return [{"quantity": label, **{name: round(getattr(m, attr) / 2**20, 1) for m, name in columns.items()}}
            for label, attr in quantities]
