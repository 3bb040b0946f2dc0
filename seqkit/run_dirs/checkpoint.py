"""Weights on disk: safetensors files written atomically and loaded into a model only when every tensor fits.

Nothing is unpickled: weights load through safetensors, and a file with missing, extra, misshapen, wrongly typed
or non-finite tensors is refused with one line naming the tensor.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seqkit.errors import RunDirError
from seqkit.files import atomic_write_with


def save_tensors(path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """Save tensors with safetensors (contiguous, detached copies), atomically."""
    prepared = {name: tensor.detach().contiguous().cpu() for name, tensor in tensors.items()}
    atomic_write_with(path, lambda temporary: save_file(prepared, str(temporary), metadata=metadata))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    """Load a safetensors file; a missing, truncated or foreign file is a RunDirError."""
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: weights file is missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise RunDirError(f"{path}: not a valid safetensors file ({error})") from None


def load_state_into(module: torch.nn.Module, tensors: dict[str, torch.Tensor], source: str) -> None:
    """Copy tensors into `module`, refusing missing, unexpected or wrongly shaped entries by name."""
    expected = module.state_dict()
    parameters = {name for name, _ in module.named_parameters()}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        raise RunDirError(f"{source}: weights lack {missing[0]!r} ({len(missing)} tensors missing)")
    if unexpected:
        raise RunDirError(f"{source}: weights have unexpected tensor {unexpected[0]!r}")
    for name, tensor in tensors.items():
        if tensor.shape != expected[name].shape:
            raise RunDirError(
                f"{source}: tensor {name!r} has shape {tuple(tensor.shape)}, "
                f"the config makes {tuple(expected[name].shape)}"
            )
        # load_state_dict would cast integers into float weights without a word, and NaN weights tag everything
        # with one label: a file that training could not have written is refused instead.
        if tensor.dtype != expected[name].dtype:
            needed = _dtype_name(expected[name])
            raise RunDirError(f"{source}: tensor {name!r} has dtype {_dtype_name(tensor)}, the model needs {needed}")
        if tensor.is_floating_point() and bool(tensor.isnan().any()):
            raise RunDirError(f"{source}: tensor {name!r} holds NaN values")
        # Buffers may hold an infinity on purpose (memnet's best loss so far starts at inf); weights never do.
        if name in parameters and not bool(torch.isfinite(tensor).all()):
            raise RunDirError(f"{source}: tensor {name!r} holds infinite values")
    module.load_state_dict(tensors)


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


def read_json(path: Path, what: str = "file") -> dict:
    path = Path(path)
    if not path.is_file():
        raise RunDirError(f"{path}: {what} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunDirError(f"{path}: not valid JSON ({error})") from None
    except RecursionError:  # json's decoder recurses once per nested list or object
        raise RunDirError(f"{path}: JSON nested too deeply") from None
