"""Placing one AlexNet's weights inside a wider one so that it computes exactly the same logits.

torchvision's ImageNet AlexNet (64/192/384/256/256 channels) is narrower than the article's
(96/256/384/384/256) with the same kernels, strides and FC sizes, so its pretrained weights fit
inside the article's network with the extra channels zero. The checks are generic: any pair of
specs works when every layer of the destination is at least as wide and computes the same way.
"""
from __future__ import annotations

import torch

from alexnet_viz.core.bookkeeping import conv_out, ledger
from alexnet_viz.core.model import AlexNet
from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import SpecError, WeightsError


def param_shapes(spec: Spec) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes of a spec's model, built on the meta device (no memory, no RNG)."""
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in AlexNet(spec).state_dict().items()}


def _param_prefix(spec: Spec) -> dict[str, str]:
    with torch.device("meta"):
        model = AlexNet(spec)
    return {l.name: model.part_paths(l.name).get("conv") or model.part_paths(l.name)["linear"]
            for l in spec.layers if l.has_params}


def same_shapes(state: dict[str, torch.Tensor], wanted: dict[str, tuple[int, ...]]) -> bool:
    """Whether a state dict has exactly these parameter names and shapes."""
    return state.keys() == wanted.keys() and all(tuple(state[k].shape) == s for k, s in wanted.items())


def _embed_obstacles(src: Spec, dst: Spec) -> list[str]:
    """Every reason the src network's function cannot be reproduced inside dst by zero-padding."""
    if [(l.name, l.kind) for l in src.layers] != [(l.name, l.kind) for l in dst.layers]:
        return ["their layers differ in number, names or kinds"]
    if src.in_channels != dst.in_channels:
        return [f"they take {src.in_channels} and {dst.in_channels} input channels"]
    try:
        rows_s, rows_d = ledger(src, dst.input_size).rows, ledger(dst).rows
    except SpecError as exc:
        return [str(exc)]
    geometry, norm, grouped, narrow, pools, sizes = [], [], [], [], [], []
    for s, d, rs, rd in zip(src.layers, dst.layers, rows_s, rows_d):
        if s.is_spatial and (s.kernel, s.stride, s.padding) != (d.kernel, d.stride, d.padding):
            geometry.append(f"{s.name} ({s.kernel}/{s.stride}/{s.padding} against {d.kernel}/{d.stride}/{d.padding})")
        if (s.relu, s.lrn) != (d.relu, d.lrn):
            norm.append(s.name)
        resized = (rs.in_shape[0], rs.out_shape[0]) != (rd.in_shape[0], rd.out_shape[0])
        if s.kind == "conv" and (s.groups != d.groups or (s.groups > 1 and resized)):
            grouped.append(f"{s.name} ({s.groups} against {d.groups})")
        if s.has_params and d.out < s.out:
            narrow.append(f"{s.name} ({d.out} < {s.out})")
        for spec, layer, row in ((src, s, rs), (dst, d, rd)):
            pre = conv_out(row.in_shape[-1], layer.kernel, layer.stride, layer.padding)[0]
            if layer.adaptive is not None and pre != layer.adaptive:
                pools.append(f"{s.name} in {spec.name} ({pre}x{pre} to {layer.adaptive}x{layer.adaptive})")
        if s.is_spatial and rs.out_shape[1:] != rd.out_shape[1:]:
            sizes.append(f"{s.name} ({rs.out_shape[1]} against {rd.out_shape[1]})")
    why = [f"{label}: {', '.join(items)}{because}" for label, items, because in (
        ("kernel/stride/padding differ in", geometry, ", so the same filters would see other pixels"),
        ("ReLU or local response normalisation differs in", norm, ", which changes every value after it"),
        ("groups differ in", grouped, "; a grouped convolution's filters each see only their own group's "
         "input channels, so a filter that reads all of them has no place in it"),
        (f"{dst.name} is narrower in", narrow, ""),
        ("an adaptive average pool is not an identity at this input size in", pools, "")) if items]
    if sizes and not why:
        why.append(f"feature maps differ in size in {', '.join(sizes)}")
    if src.layers[-1].out != dst.layers[-1].out:
        why.append(f"the output layer has {dst.layers[-1].out} classes in {dst.name}, not "
                   f"{src.layers[-1].out}; extra logits would change the softmax")
    return why


def embed_state_dict(src_sd: dict[str, torch.Tensor], src: Spec, dst: Spec) -> dict[str, torch.Tensor]:
    """src's weights inside dst's wider layers, extra channels zero: the same logits at dst's input.

    Extra output channels get zero weights and zero bias, so after ReLU and max-pooling they stay
    zero; the next layer's weights from them are zero too, so they never reach the logits.
    """
    if not same_shapes(src_sd, param_shapes(src)):
        raise WeightsError(f"These weights do not have the {src.name} network's names and shapes.")
    why = _embed_obstacles(src, dst)
    if why:
        raise WeightsError(f"Weights for the {src.name} network cannot be placed in the {dst.name} "
                           f"network: {'; '.join(why)}. Choose the {src.name} variant for these weights.")
    src_pre, dst_pre, shapes = _param_prefix(src), _param_prefix(dst), param_shapes(dst)
    side = ledger(dst).rows
    out: dict[str, torch.Tensor] = {}
    for layer, prev in zip(dst.layers, (None, *side[:-1])):
        if not layer.has_params:
            continue
        w, b = src_sd[f"{src_pre[layer.name]}.weight"], src_sd[f"{src_pre[layer.name]}.bias"]
        key = dst_pre[layer.name]
        big = torch.zeros(shapes[f"{key}.weight"], dtype=w.dtype)
        if layer.kind == "fc" and prev is not None and prev.kind != "fc":  # flatten: channel-major C*H*W
            hw = prev.out_shape[1] * prev.out_shape[2]
            big.view(big.shape[0], -1, hw)[: w.shape[0], : w.shape[1] // hw] = w.view(w.shape[0], -1, hw)
        else:
            big[: w.shape[0], : w.shape[1]] = w
        bias = torch.zeros(shapes[f"{key}.bias"], dtype=b.dtype)
        bias[: b.shape[0]] = b
        out[f"{key}.weight"], out[f"{key}.bias"] = big, bias
    return out


__all__ = ["embed_state_dict", "param_shapes", "same_shapes"]
