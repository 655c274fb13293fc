"""Model twins: the same network as new module objects, over the same tensors or over cast copies.

The app's model is shared by every session, so nothing may hook, cast or re-lay it out in place
(`module.to(dtype)` would overwrite the shared parameters' data). A twin is a fresh module tree:
`twin(model)` shares the very tensors (no copy, what explanations need), `twin(model, "bf16")`
holds each weight cast once to bf16 with conv weights in channels_last, what batch work runs on.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.precision import PRECISIONS
from alexnet_viz.errors import AlexVizError

DTYPES: dict[str, torch.dtype] = dict(zip(PRECISIONS, (torch.float32, torch.bfloat16)))


def dtype_of(precision: str) -> torch.dtype:
    """The torch dtype of a precision name, with a message listing the choices."""
    try:
        return DTYPES[precision]
    except KeyError:
        raise AlexVizError(f"Unknown precision {precision!r}: use one of {', '.join(PRECISIONS)}.") from None


def _cast(t: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """One tensor in `dtype`, 4-D ones in channels_last; the original is left as it is."""
    out = t.detach().to(dtype)
    return out.contiguous(memory_format=torch.channels_last) if out.dim() == 4 else out


def twin(model: AlexNet, precision: str | None = None) -> AlexNet:
    """A new module tree with no hooks, in eval mode: over the same tensors, or over copies in `precision`.

    With a precision, float32 tensors that need no change are still shared (no copy of the fc
    weights); the copies are read-only (requires_grad off), made once per twin.
    """
    tensors = (*model.parameters(), *model.buffers())
    if precision is None:
        memo: dict[int, object] = {id(t): t for t in tensors}
    else:
        dtype = dtype_of(precision)
        memo = {id(p): nn.Parameter(_cast(p, dtype), requires_grad=False) for p in model.parameters()}
        memo.update({id(b): _cast(b, dtype) for b in model.buffers()})
    for module in model.modules():
        for attr, value in vars(module).items():
            if "hooks" in attr and isinstance(value, dict):
                memo[id(value)] = type(value)()  # another session's live hooks are not copied
    return copy.deepcopy(model, memo).eval()


def cast_input(x: torch.Tensor, precision: str) -> torch.Tensor:
    """A batch in the precision's dtype and channels_last, to feed a twin made for that precision."""
    return _cast(x, dtype_of(precision))


__all__ = ["DTYPES", "cast_input", "dtype_of", "twin"]
