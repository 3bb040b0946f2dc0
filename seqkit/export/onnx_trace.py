"""What every ONNX export shares: example inputs for the trace, their dynamic axes, and the exporter call.

The exporters trace a network once on example tensors; the trace records operations, not values, so any
valid ids do, and the dynamic axes tell ONNX which dimensions may change at run time (batch, length, and the
number of letter trigrams or characters a word has).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from seqkit.errors import ConfigError

TRIGRAM_DEPTH = 5  # the traced example's trigrams per word; any depth works at run time
CHARACTER_DEPTH = 7  # the traced example's characters per word; any depth works at run time


def feature_examples(features: list[str], length: int) -> tuple[tuple[torch.Tensor, ...], dict[str, dict]]:
    """Two rows of `length` positions for each encoder feature in `features` (words (2, T), trigrams and
    characters (2, T, K), bigrams and shapes (2, T)), in that order, and the dynamic axes of each."""
    if "pieces" in features:
        # The encoder remembers sentences in Python and its tokenizer runs outside torch: neither traces.
        raise ConfigError("encoder.features: ONNX export does not cover the 'pretrained' encoder")
    shapes = {"trigrams": (2, length, TRIGRAM_DEPTH), "characters": (2, length, CHARACTER_DEPTH)}
    # Id 2 is the first real entry of every vocabulary (after <pad> and <unk>), so it exists in the smallest.
    examples = tuple(torch.full(shapes.get(name, (2, length)), 2, dtype=torch.long) for name in features)
    axes = {name: {0: "batch", 1: "length"} for name in features}
    if "trigrams" in axes:
        axes["trigrams"][2] = "trigrams"
    if "characters" in axes:
        axes["characters"][2] = "characters"
    return examples, axes


def write_onnx(
    network: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    path: Path,
    input_names: list[str],
    output_names: list[str],
    dynamic_axes: dict[str, dict],
) -> None:
    """Trace `network` on `inputs` and write the graph to `path`.

    This is the TorchScript-based exporter, deprecated in favour of torch.export (dynamo=True), which also
    exports these networks but takes about 20 s instead of 0.3 s for a tagger and needs onnxscript. The tracer
    and deprecation warnings it raises are silenced for this call only (the tests check what it writes).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            network,
            inputs,
            str(path),
            dynamo=False,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
        )
