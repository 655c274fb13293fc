"""Training memory: autograd's saved tensors measured on a real model, and their linear scaling checked."""
import gc

import pytest
import torch

from alexnet_viz.analysis.training_memory import MEASURED_BATCHES, saved_bytes, step_peak, training_memory
from alexnet_viz.core.bookkeeping import ledger
from alexnet_viz.core.model import build_model
from alexnet_viz.core.spec import ARTICLE, PAPER


@pytest.fixture(scope="module")
def article_model():
    return build_model(ARTICLE, seed=0)


@pytest.mark.slow
def test_scaling_from_small_batches_matches_direct_measurements(article_model):
    mem = training_memory(ARTICLE, 128)
    for batch in (3, 5):  # neither is one of the measured batches
        assert batch not in MEASURED_BATCHES
        direct = saved_bytes(article_model, batch, ARTICLE.input_size)
        assert direct == mem.saved_fixed + mem.saved_per_image * batch


def test_measurement_leaves_the_model_as_it_was(article_model):
    article_model.eval()
    saved_bytes(article_model, 1, ARTICLE.input_size)
    assert not article_model.training
    assert all(p.grad is None for p in article_model.parameters())


def test_measurement_keeps_no_tensor_alive_after_it_returns(article_model):
    """A server measures this once per process: its saved tensors must go with the call, not wait for
    a garbage collection (returning the tensor from the pack hook made a cycle through its grad_fn)."""
    def live_tensors() -> int:
        return sum(issubclass(type(o), torch.Tensor) for o in gc.get_objects())

    gc.collect()
    gc.disable()
    try:
        before = live_tensors()
        saved_bytes(article_model, 2, ARTICLE.input_size)
        after = live_tensors()
    finally:
        gc.enable()
    assert after - before <= 2, f"{after - before} tensors outlived the measurement"


def test_saved_tensors_are_fewer_than_the_hand_count_but_more_than_the_relu_outputs():
    mem = training_memory(ARTICLE, 128)
    book = ledger(ARTICLE)
    relu_outputs = sum(r.activation_bytes for r, layer in zip(book.rows, ARTICLE.layers) if layer.relu)
    every_output_twice = sum(r.activation_bytes * (2 if layer.relu else 1)
                             for r, layer in zip(book.rows, ARTICLE.layers))
    assert relu_outputs < mem.saved_per_image < every_output_twice
    assert mem.saved_fixed == 0  # nothing saved is independent of the batch, parameters excluded
    assert mem.saved == mem.saved_per_image * 128


def test_estimate_adds_weights_gradients_momentum_and_saved_tensors():
    mem = training_memory(ARTICLE, 128)
    assert mem.weights == ledger(ARTICLE).total_params * 4
    assert mem.estimate == 3 * mem.weights + mem.saved
    c1 = ledger(ARTICLE).row("C1")
    assert mem.gradient_pair_per_image == 2 * c1.activation_bytes  # C1's ReLU: its output and input gradients
    assert mem.upper_bound == mem.estimate + 128 * mem.gradient_pair_per_image
    assert mem.upper_bound < 3 * 2**30 < 24 * 10**9  # under one GTX 580 by this count; far under today's cards


@pytest.mark.slow
def test_estimate_is_close_above_the_real_peak_of_one_sgd_step():
    """The profiler's allocator events during a real step: the estimate is not a floor, but close above."""
    batch = 32  # large enough that the activations, not the weights, decide where the peak falls
    mem = training_memory(ARTICLE, batch)
    peak = step_peak(build_model(ARTICLE, seed=0), batch, ARTICLE.input_size)
    assert 0.95 * mem.estimate < peak <= mem.estimate < mem.upper_bound


def test_step_peak_counts_what_a_small_step_holds():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(48, 1000))
    peak = step_peak(net, 4, 4)
    weights = (48 * 1000 + 1000) * 4
    # weights, momentum, the input, and during the step at least the weight gradients
    assert 3 * weights < peak < 3 * weights + 200_000


def test_paper_network_saves_more_per_image_because_of_lrn():
    paper, article = training_memory(PAPER, 128), training_memory(ARTICLE, 128)
    assert paper.params < article.params and paper.saved_per_image > article.saved_per_image


def test_pooling_indices_are_counted_at_their_real_width():
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 1, 1), torch.nn.MaxPool2d(2, 2))
    # the conv saves its 3x4x4 float32 input (192 B; its weight is a parameter, not counted); the pool saves
    # its 1x4x4 input (64 B) and its 2x2 int64 indices (32 B)
    assert saved_bytes(net, 1, 4) == 192 + 64 + 32


@pytest.mark.parametrize("spec", [ARTICLE, PAPER], ids=lambda s: s.name)
def test_the_meta_device_saves_exactly_what_a_cpu_pass_saves(spec):
    """training_memory runs on the meta device (no data, no arithmetic): it must count the same bytes."""
    cpu = build_model(spec, seed=0)
    meta = build_model(spec, seed=0).to("meta")
    for batch in MEASURED_BATCHES:
        assert saved_bytes(meta, batch, spec.input_size) == saved_bytes(cpu, batch, spec.input_size) > 0
    mem = training_memory(spec, 4)
    assert mem.saved_fixed + mem.saved_per_image * 2 == saved_bytes(cpu, 2, spec.input_size)
