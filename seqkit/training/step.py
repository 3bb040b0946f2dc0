"""One optimizer step on one batch, the same whether one process trains or several, in float32 or float16.

Under torchrun each process takes its shard of the global batch and DistributedDataParallel averages the
gradients; the loss is weighted by the shard's share of the batch's examples, so that the step and the logged
loss are those of the whole batch (see seqkit/runtime/distributed.py). With `train.amp`, the forward pass runs
in float16 autocast and a gradient scaler keeps small gradients from underflowing.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from seqkit.config import TrainConfig
from seqkit.errors import ConfigError, SeqkitError
from seqkit.run_dirs.layout import LAST_CHECKPOINT
from seqkit.runtime import distributed
from seqkit.runtime.device import to_device


class TrainingStep:
    """`step(batch)` -> (the whole batch's mean loss, whether clipping changed the gradient)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig, device, run_dir: Path):
        self.model = model
        self.optimizer = optimizer
        self.config = config
        self.device = device
        self.run_dir = Path(run_dir)
        if config.amp and device.type != "cuda":
            raise ConfigError(f"train.amp: mixed precision needs --device cuda (this run is on {device})")
        self.scaler = torch.amp.GradScaler("cuda") if config.amp else None  # a no-op when amp is off
        self.world_size = distributed.world_size()
        self.rank = distributed.rank()
        if self.world_size > 1:
            device_ids = [device.index] if device.type == "cuda" else None
            self.train_model: nn.Module = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        else:
            self.train_model = model

    def fits(self, batch: dict) -> bool:
        """A tail batch too small to give every process an example is skipped."""
        return distributed.examples_in(batch) >= self.world_size

    def __call__(self, batch: dict, step_number: int) -> tuple[float, bool]:
        self.optimizer.zero_grad(set_to_none=True)
        local = distributed.shard(batch, self.rank, self.world_size) if self.world_size > 1 else batch
        local = to_device(local, self.device)
        with torch.autocast("cuda", dtype=torch.float16, enabled=self.scaler is not None):
            loss = self.train_model(local).loss
        share = distributed.examples_in(local) / distributed.examples_in(batch)
        batch_loss = distributed.sum_across(loss.item() * share)
        if not math.isfinite(batch_loss):
            raise SeqkitError(
                f"loss became {batch_loss} at step {step_number}; the last good checkpoint is kept "
                f"in {self.run_dir / LAST_CHECKPOINT}"
            )
        scaled = loss * share * self.world_size
        if self.scaler is None:
            scaled.backward()
            clipped = clip_gradients(self.model, self.config)
            self.optimizer.step()
        else:
            self.scaler.scale(scaled).backward()
            self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            clipped = clip_gradients(self.model, self.config)
            self.scaler.step(self.optimizer)  # skipped when the gradients overflowed
            self.scaler.update()
        return batch_loss, clipped


def clip_gradients(model: nn.Module, config: TrainConfig) -> bool:
    """Clip by value (`train.clip_value`), then by global norm (`train.clip_norm`); True when either changed
    the gradient."""
    changed = False
    parameters = [parameter for parameter in model.parameters() if parameter.grad is not None]
    if config.clip_value is not None:
        limit = config.clip_value
        changed = any(bool((parameter.grad.abs() > limit).any()) for parameter in parameters)
        nn.utils.clip_grad_value_(parameters, limit)
    if config.clip_norm is not None:
        norm = nn.utils.clip_grad_norm_(parameters, config.clip_norm)
        changed = changed or bool(norm > config.clip_norm)
    return changed
