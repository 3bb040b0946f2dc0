"""Where a model runs: `--device auto` (the default: the GPU when there is one, else the CPU), `cpu` or `cuda`.

`resolve_device` turns the option into a torch.device, refusing in one line a device this machine lacks; under
torchrun each process takes the GPU of its local rank. The trainer moves each batch to its model's device.
Task code (evaluation, prediction, decoding) builds batches on the CPU and reads the outputs there, so for
another device the model is wrapped in `OnDevice`, which moves a batch in and the head's outputs back: the
tasks stay device-agnostic and nothing changes on the CPU, where no wrapper is used.
"""

from __future__ import annotations

import dataclasses
import os

import torch
from torch import nn

from seqkit.errors import ConfigError

CPU = torch.device("cpu")


AUTO = "auto"


def resolve_device(name: str | torch.device | None) -> torch.device:
    """'auto', 'cpu', 'cuda' or 'cuda:N' -> torch.device; a ConfigError names what is missing.

    'auto' is 'cuda' where torch sees a GPU and 'cpu' elsewhere, as Hugging Face pipelines and Trainer choose.
    """
    if name is None:
        return CPU
    if name == AUTO:
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ConfigError(f"--device: unknown device {str(name)!r} (choose from: auto, cpu, cuda, cuda:N)") from None
    if device.type == "cpu":
        return CPU
    if device.type != "cuda":
        raise ConfigError(f"--device: {device.type!r} is not supported (choose from: auto, cpu, cuda, cuda:N)")
    if not torch.cuda.is_available():
        build = "built without CUDA" if torch.version.cuda is None else "finds no GPU"
        raise ConfigError(
            f"--device {name}: CUDA is not available (this torch {torch.__version__} {build}); use --device cpu"
        )
    if device.index is None:
        # One GPU per process: torchrun tells each process its local rank.
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if device.index >= torch.cuda.device_count():
        raise ConfigError(f"--device {name}: only {torch.cuda.device_count()} GPU(s) visible")
    return device


def model_device(model: nn.Module) -> torch.device:
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else CPU


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    """The batch's tensors on `device` (the same tensors when they are there already)."""
    non_blocking = device.type == "cuda"
    return {name: value.to(device, non_blocking=non_blocking) for name, value in batch.items()}


def to_cpu(value):
    """Tensors (alone, in dicts, tuples or dataclasses such as HeadOutput) moved to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.cpu()
    if isinstance(value, dict):
        return {name: to_cpu(item) for name, item in value.items()}
    if isinstance(value, tuple | list):
        return type(value)(to_cpu(item) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: to_cpu(getattr(value, f.name)) for f in dataclasses.fields(value)})
    return value


class OnDevice(nn.Module):
    """A model on an accelerator seen from CPU code: batches go in, outputs come back to the CPU.

    Other attributes (`encoder`, `head`, ...) are the wrapped model's, so decoding adapters reach them.
    """

    def __init__(self, model: nn.Module, device: torch.device):
        super().__init__()
        self.model = model
        self.device = device

    def forward(self, batch: dict[str, torch.Tensor]):
        return to_cpu(self.model(to_device(batch, self.device)))

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(super().__getattr__("model"), name)


def place(model: nn.Module, device: torch.device) -> nn.Module:
    """Move `model` to `device`; on the CPU it comes back as it is, elsewhere wrapped in OnDevice."""
    if device.type == "cpu":
        return model
    return OnDevice(model.to(device), device)
