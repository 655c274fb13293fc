"""Devices and mixed precision: which device to run on, its name for people, timing fences, autocast.

Naming a device the machine lacks is an error, never a silent fall-back to the CPU.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from alexnet_viz.core.precision import AUTOCAST
from alexnet_viz.errors import AlexVizError, DeviceError

AUTOCAST_DTYPES: dict[str, torch.dtype] = dict(zip(AUTOCAST, (torch.bfloat16, torch.float16)))


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to run on: `prefer` if this machine has it, else CUDA, then Apple MPS, then CPU.

    `None` or "auto" chooses; naming a device the machine lacks is an error rather than a silent
    fall-back, so a server started with `--device cuda` never quietly runs on the CPU.
    """
    if prefer is None or (isinstance(prefer, str) and prefer.strip().lower() in ("", "auto")):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(prefer.strip().lower() if isinstance(prefer, str) else prefer)
    except (RuntimeError, ValueError, TypeError):
        raise DeviceError(f"Unknown device {prefer!r}: use auto, cpu, cuda, cuda:N or mps.") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"Device {prefer!r} was asked for but this machine has no usable CUDA GPU; "
                              "use --device cpu (or auto).")
        count = torch.cuda.device_count()
        if device.index is not None and device.index >= count:
            raise DeviceError(f"Device {prefer!r} does not exist: this machine has {count} CUDA "
                              f"device(s), cuda:0 to cuda:{count - 1}.")
        return device
    if device.type == "mps":
        if not _mps_available():
            raise DeviceError(f"Device {prefer!r} was asked for but Apple MPS is not available here; "
                              "use --device cpu (or auto).")
        return device
    raise DeviceError(f"Device {prefer!r} is not supported: use auto, cpu, cuda, cuda:N or mps.")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def model_device(model: nn.Module) -> torch.device:
    """Where the model's weights live (and so where its inputs must go)."""
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def device_name(device: torch.device) -> str:
    """A name for people: the GPU's own name on CUDA, the thread count on the CPU."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple MPS"
    threads = torch.get_num_threads()
    return f"CPU ({threads} thread{'' if threads == 1 else 's'})"


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a wall-clock time measures the work and not its launch."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def autocast_context(device: torch.device, autocast: str | None) -> contextlib.AbstractContextManager:
    """Mixed precision ("bf16" or "fp16") on the device, or nothing when `autocast` is None."""
    if autocast is None:
        return contextlib.nullcontext()
    if autocast not in AUTOCAST_DTYPES:
        raise AlexVizError(f"Unknown autocast {autocast!r}: use bf16, fp16 or leave it off.")
    return torch.autocast(device_type=device.type, dtype=AUTOCAST_DTYPES[autocast])
