"""checkpoints/last: everything a stopped run needs to continue exactly as if it had never stopped.

The weights, the optimizer's moments (as named tensors plus a JSON layout, nothing pickled), every process's
random number generator state, and the trainer's state. The folder is replaced atomically, and the log is
rewritten beside it, so that a crash at any moment leaves the previous complete checkpoint.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from seqkit.errors import RunDirError
from seqkit.files import atomic_replace_directory, atomic_write_json, atomic_write_text, settled_directory
from seqkit.run_dirs.checkpoint import load_state_into, load_tensors, read_json, save_tensors
from seqkit.run_dirs.layout import LAST_CHECKPOINT
from seqkit.training.state import TrainerState


def save_last_checkpoint(
    run_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, state: TrainerState, rng_states: list
) -> None:
    """Replace run_dir/checkpoints/last with this moment of training, and write log.jsonl from its history."""
    optimizer_tensors, optimizer_layout = _flatten_optimizer(optimizer)

    def fill(folder: Path) -> None:
        save_tensors(folder / "model.safetensors", model.state_dict())
        save_tensors(folder / "optimizer.safetensors", optimizer_tensors)
        save_tensors(folder / "rng.safetensors", {f"torch.{i}": rng for i, rng in enumerate(rng_states)})
        atomic_write_json(folder / "optimizer.json", optimizer_layout)
        atomic_write_json(folder / "trainer.json", asdict(state))

    atomic_replace_directory(Path(run_dir) / LAST_CHECKPOINT, fill)
    lines = "".join(json.dumps(record) + "\n" for record in state.history)
    atomic_write_text(Path(run_dir) / "log.jsonl", lines)


def load_last_checkpoint(
    run_dir: Path, model: nn.Module, optimizer: torch.optim.Optimizer, rank: int, world_size: int
) -> TrainerState:
    """Load the latest checkpoint into `model` and `optimizer`, restore this process's RNG; returns the state."""
    folder = settled_directory(Path(run_dir) / LAST_CHECKPOINT)
    if folder is None:
        raise RunDirError(
            f"{Path(run_dir) / LAST_CHECKPOINT}: no checkpoint to resume from (training stopped before the "
            "first one); start again with --overwrite"
        )
    load_state_into(model, load_tensors(folder / "model.safetensors"), str(folder / "model.safetensors"))
    layout = read_json(folder / "optimizer.json", "optimizer state")
    _restore_optimizer(optimizer, load_tensors(folder / "optimizer.safetensors"), layout)
    rng_states = load_tensors(folder / "rng.safetensors")
    if f"torch.{rank}" not in rng_states or len(rng_states) != world_size:
        raise RunDirError(
            f"{folder}: saved by {len(rng_states)} process(es); resume with the same number ({world_size} now)"
        )
    torch.set_rng_state(rng_states[f"torch.{rank}"])
    saved = read_json(folder / "trainer.json", "trainer state")
    try:
        return TrainerState(**saved)
    except TypeError as error:
        raise RunDirError(f"{folder / 'trainer.json'}: unexpected content ({error})") from None


def _flatten_optimizer(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Optimizer state as named tensors plus a JSON layout (no pickling)."""
    state_dict = optimizer.state_dict()
    tensors, scalars = {}, {}
    for parameter_id, values in state_dict["state"].items():
        for name, value in values.items():
            key = f"{parameter_id}.{name}"
            if isinstance(value, torch.Tensor):
                tensors[key] = value
            else:
                scalars[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _restore_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], layout: dict) -> None:
    state: dict[int, dict] = {}
    for key, value in [*tensors.items(), *layout.get("scalars", {}).items()]:
        parameter_id, _, name = key.partition(".")
        state.setdefault(int(parameter_id), {})[name] = value
    try:
        optimizer.load_state_dict({"state": state, "param_groups": layout["param_groups"]})
    except (KeyError, ValueError) as error:
        raise RunDirError(f"optimizer state does not match the model ({error})") from None
