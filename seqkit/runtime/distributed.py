"""Data-parallel training on torch.distributed: what the Trainer needs to run as one of several processes.

Launch with `torchrun --nproc-per-node N -m seqkit train ...` (or `seqkit train ... --nproc N`). Each process
joins the group from torchrun's environment (gloo on CPU, nccl on GPU), takes its slice of every global batch,
and DistributedDataParallel averages the gradients. Because a slice can be one example shorter than another,
each process scales its mean loss by (its examples x processes / global examples): the averaged gradient is then
exactly the gradient of the global batch's mean loss, as in a single process with the same global batch.

Only rank 0 writes files; scores computed on rank 0 are broadcast so that every process takes the same
early-stopping decision.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def initialize_from_environment(device: torch.device | None = None) -> None:
    """Join the process group that torchrun describes (WORLD_SIZE > 1); a single process does nothing.

    Training on CUDA uses nccl (each process on the GPU of its local rank), on the CPU gloo.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        if device is not None and device.type == "cuda":
            torch.cuda.set_device(device)
            dist.init_process_group("nccl")
        else:
            dist.init_process_group("gloo")


def _collective_device() -> torch.device:
    """nccl exchanges tensors on the GPU only; gloo on the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def examples_in(batch: dict[str, torch.Tensor]) -> int:
    """The batch size: the first dimension shared by the batch's tensors."""
    return next(iter(batch.values())).size(0)


def shard(batch: dict[str, torch.Tensor], index: int, count: int) -> dict[str, torch.Tensor]:
    """Rows [start, end) of every tensor for process `index` of `count`; contiguous, sizes differ by <= 1."""
    size = examples_in(batch)
    start, end = index * size // count, (index + 1) * size // count
    return {name: tensor[start:end] for name, tensor in batch.items()}


def sum_across(value: float) -> float:
    """Sum a Python number over all processes (itself in a single process)."""
    if not dist.is_initialized():
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=_collective_device())
    dist.all_reduce(tensor)
    return float(tensor.item())


def any_across(flag: bool) -> bool:
    return sum_across(float(flag)) > 0


def broadcast_from_main(value):
    """Rank 0's value (a small JSON-like value such as a scores dict) on every process."""
    if not dist.is_initialized():
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_rng_states() -> list[torch.Tensor]:
    """Every process's CPU random-number state, in rank order (so that a resumed run draws the same numbers)."""
    state = torch.get_rng_state()
    if not dist.is_initialized():
        return [state]
    state = state.to(_collective_device())
    states = [torch.empty_like(state) for _ in range(world_size())]
    dist.all_gather(states, state)
    return [gathered.cpu() for gathered in states]


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def finish() -> None:
    """Leave the process group cleanly at the end of a distributed run."""
    if dist.is_initialized():
        dist.destroy_process_group()
