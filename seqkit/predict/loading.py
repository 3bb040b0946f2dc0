"""Loading a predictor's parts from a run dir: what every predictor's `load` does before it wraps them."""

from __future__ import annotations

from pathlib import Path

import torch

from seqkit.config import Recipe
from seqkit.errors import ConfigError, RunDirError
from seqkit.run_dirs.run_dir import load_run
from seqkit.runtime.device import place, resolve_device
from seqkit.tasks import get_task, tasks_served_by


def load_predictor_parts(
    run_dir: str | Path, predictor: str, device: str = "auto", quantize: str | None = None
) -> tuple[Recipe, dict, torch.nn.Module]:
    """(recipe, vocabularies, model on `device`) of a run dir whose task names `predictor` (a class's name in
    seqkit.predict.registry.PREDICTORS) as the one that serves it; a run dir of any other task is refused in one
    line that names the right class.

    `quantize="int8"` converts the float model's Linear/LSTM/GRU layers to dynamic int8 (runtime/quantization.py);
    int8 kernels run on the CPU only.
    """
    from seqkit.runtime.quantization import quantize as quantized

    if quantize is not None and device == "auto":
        device = "cpu"  # int8 kernels exist on the CPU only, so a GPU is never the automatic choice here
    if quantize is not None and device != "cpu":
        raise ConfigError(f"--quantize {quantize} runs on the CPU; it cannot be combined with --device {device}")
    target = resolve_device(device)
    recipe, vocabularies, model = load_run(Path(run_dir))
    model = place(model, target)
    serving = get_task(recipe.task).predictor
    if serving != predictor:
        served = " or ".join(f"a {name!r} model" for name in tasks_served_by(predictor)) or "a model it serves"
        raise RunDirError(f"{run_dir}: holds a {recipe.task!r} model, not {served}; load it with seqkit.{serving}")
    return recipe, vocabularies, quantized(model, quantize)
