"""Starting a run's recurrent layer from a trained run's (rnn.init_from), as train() does for a new run."""

from __future__ import annotations

from pathlib import Path

import torch

from seqkit.errors import ConfigError, RunDirError
from seqkit.layers.rnn import RecurrentLayer
from seqkit.run_dirs.run_dir import load_run


def initialise_recurrent_layer(model: torch.nn.Module, run_dir: str | Path) -> None:
    """Copy the first recurrent layer of the run in `run_dir` (rnn.init_from) into `model`'s first one.

    Every tensor of the source must have a namesake of the same shape here, so the cell, hidden_size and
    num_layers must agree and the input be as wide (the encoder's output); else a ConfigError names the key. A
    backward direction that the source lacks (a language model reads one way) keeps its fresh weights.
    """

    def first_recurrent_layer(module: torch.nn.Module, whose: str) -> RecurrentLayer:
        found = next((layer for layer in module.modules() if isinstance(layer, RecurrentLayer)), None)
        if found is None:
            raise ConfigError(f"rnn.init_from: {whose} has no recurrent layer")
        return found

    try:
        _, _, trained = load_run(Path(run_dir))
    except (RunDirError, ConfigError) as error:
        raise ConfigError(f"rnn.init_from: {error}") from None
    source = first_recurrent_layer(trained, f"the model in {run_dir}").state_dict()
    target = first_recurrent_layer(model, "this run's model").state_dict()
    for name, tensor in source.items():
        if name not in target or target[name].shape != tensor.shape:
            here = tuple(target[name].shape) if name in target else "missing"
            raise ConfigError(
                f"rnn.init_from: the recurrent layer of {run_dir} does not fit this run's: {name} is "
                f"{tuple(tensor.shape)} there and {here} here (rnn.cell, rnn.hidden_size, rnn.num_layers and the "
                "encoder's width must agree)"
            )
    with torch.no_grad():
        for name, tensor in source.items():
            target[name].copy_(tensor)
