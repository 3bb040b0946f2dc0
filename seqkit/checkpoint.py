"""Run directories: written atomically, loaded without unpickling anything.

A run dir holds everything a predictor needs:

    config.yaml         the resolved recipe (safe YAML)
    model.safetensors   the weights of the best epoch
    vocab/*.json        the lexicon and label sets
    metrics.json        dev (and test, once evaluated) scores
    run.json            seqkit version, command line, timings
    log.jsonl           one line of metrics per epoch
    checkpoints/last/   weights, optimizer and trainer state of the latest step, for --resume (dropped once
                        training finished, unless train.keep_checkpoints)

Every file is written to a temporary name in the same folder, flushed to disk and renamed over its target, so a
crash leaves either the old file or the new one, never half of one. Checkpoint folders are replaced the same
way. Weights load through safetensors, everything else through JSON or YAML's safe loader.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from seqkit.errors import RunDirError


def atomic_write_bytes(path: Path, content: bytes) -> None:
    """Write `content` to `path` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, content) -> None:
    atomic_write_text(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")


def atomic_write_with(path: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temporary file (for libraries that want a path), then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        writer(Path(temporary))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_replace_directory(target: Path, fill: Callable[[Path], None]) -> None:
    """Build a folder with `fill` beside `target`, then swap it in; the old folder goes only afterwards."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(staging)
        swap_in_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_in_directory(staging: Path, target: Path) -> None:
    """Rename the complete folder `staging` to `target` (same parent folder); an old `target` goes only afterwards."""
    staging, target = Path(staging), Path(target)
    retired = None
    if target.exists():
        retired = target.parent / f".{target.name}.retired"
        if retired.exists():
            shutil.rmtree(retired)
        os.replace(target, retired)
    os.replace(staging, target)
    if retired is not None:
        shutil.rmtree(retired)


def settled_directory(target: Path) -> Path | None:
    """The complete folder at `target`, or None.

    A process killed between the two renames of atomic_replace_directory leaves the previous complete folder
    under its retired name and nothing at `target`; that folder is still whole, so it is the one to use.
    """
    target = Path(target)
    if target.is_dir():
        return target
    retired = target.parent / f".{target.name}.retired"
    return retired if retired.is_dir() else None


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
