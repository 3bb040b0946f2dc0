"""The optimizer and its learning rate: AdamW or plain SGD, and the schedule that scales the rate step by step."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from seqkit.config import SCHEDULES, TrainConfig


def build_optimizer(parameters: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW as most tasks train with it (benchmarks/harness.py times the same one), or plain SGD.

    The fused kernel reads and writes each parameter's moments once per step. Against the foreach kernels
    (a pass per arithmetic operation) it made a step 3x faster on a 4M-weight hashed-bigram table on one CPU
    thread (9 ms against 28 ms); the update is the same AdamW, up to rounding. Plain SGD (no momentum) is
    the optimizer of the memory-network paper, whose recipe it lets us follow step for step.
    """
    parameters = list(parameters)
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    fused = all(parameter.device.type in ("cpu", "cuda") for parameter in parameters)
    return torch.optim.AdamW(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay, fused=fused, foreach=not fused
    )


def learning_rate_factor(
    step: int,
    total_steps: int,
    schedule: str,
    warmup_steps: int,
    epoch: int = 0,
    hold_epochs: int = 0,
    halve_every_epochs: int = 1,
) -> float:
    """Multiplier of the base learning rate at `step` (0-based), which falls in `epoch` (0-based).

    "step" is the staircase of the memory-network paper (Sukhbaatar et al. 2015): the full rate for
    `hold_epochs` epochs, then half of it, halved again every `halve_every_epochs` epochs.
    """
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        halvings = 0 if epoch < hold_epochs else 1 + (epoch - hold_epochs) // halve_every_epochs
        return 0.5**halvings
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"train.schedule: unknown schedule {schedule!r} (choose from: {', '.join(SCHEDULES)})")


def set_learning_rate(optimizer: torch.optim.Optimizer, config: TrainConfig, step: int, total_steps: int, epoch: int):
    """Put the scheduled rate of `step` into every parameter group (computed from the step alone, so that a
    resumed run continues the schedule exactly)."""
    factor = learning_rate_factor(
        step,
        total_steps,
        config.schedule,
        config.warmup_steps,
        epoch=epoch,
        hold_epochs=config.hold_epochs,
        halve_every_epochs=config.halve_every_epochs,
    )
    for group in optimizer.param_groups:
        group["lr"] = config.learning_rate * factor
