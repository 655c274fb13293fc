"""The process group: one process by default, DistributedDataParallel when torchrun started us.

Also used by the `index` command (alexnet_viz.cli.index), whose ranks shard a folder and leave the group
the same way.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous variables), so the same command
line trains on one CPU, eight GPUs or two machines. NCCL on CUDA, gloo on the CPU.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    """Where this process stands: its rank among `world`, and the device it trains on."""

    rank: int
    world: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Only rank 0 writes files, logs and draws the progress bar."""
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: torch.device) -> Dist:
    """Join torchrun's process group (if any) and pick this rank's GPU (LOCAL_RANK) on CUDA."""
    if not launched_by_torchrun():
        return Dist(0, 1, 0, device)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=rank, world_size=world)
    return Dist(rank, world, local, device)


@contextmanager
def leaving_together() -> Iterator[None]:
    """Close torchrun's process group on the way out, once every rank got there if all went well.

    A rank that closed its gloo connections while another still used them (writing its last
    files) made that one abort with "Connection closed by peer" (SIGABRT). After an error nobody
    waits: torchrun stops the other ranks.
    """
    try:
        yield
        if dist.is_initialized():
            dist.barrier()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def sum_all(values: list[float], where: Dist) -> list[float]:
    """Element-wise sum over ranks (float64, so counts stay exact)."""
    if where.world == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=where.device)
    dist.all_reduce(t)
    return t.tolist()


def any_rank(flag: bool, where: Dist) -> bool:
    """True on every rank if it is true on one (a Ctrl-C seen by one rank stops them all together)."""
    return bool(sum_all([float(flag)], where)[0] > 0)


def barrier(where: Dist) -> None:
    if where.world > 1:
        dist.barrier()
