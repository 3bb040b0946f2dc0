"""Dynamic int8 quantization of a loaded float model for faster CPU inference (Jacob et al. 2018).

Dynamic quantization stores the weights of every nn.Linear, nn.LSTM and nn.GRU as 8-bit integers with one
scale per tensor, and quantizes each activation on the fly from its observed range, so no calibration data is
needed: a float run dir is converted at load time and its files are never changed. Matrix products then run
in int8 (fbgemm / x86 kernels) with int32 accumulation, which cuts the memory traffic of the weights by four;
embeddings, attention arithmetic and the CRF stay in float. A pretrained encoder's frozen transformer, which
lives outside the module tree, has its Linear layers quantized the same way.

An encoder-decoder whose output layer is tied to its target embeddings computes that layer from the embedding
matrix directly; since this projection onto the whole vocabulary is the largest product of every decoding step,
the quantized copy gets its own output Linear (a copy of the tied matrix and bias), which then quantizes like any
other. Quantized models are for inference only.

torch marks its eager quantization API deprecated in favour of the separate torchao package; it still works,
and the warnings it raises while converting are silenced here (they say nothing about the model).
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from seqkit.encoders.pretrained import PretrainedEncoder
from seqkit.errors import ConfigError
from seqkit.heads.seq2seq import Seq2SeqHead

QUANTIZATIONS = ("int8",)


def quantize(model: nn.Module, scheme: str | None) -> nn.Module:
    """The model with its Linear / LSTM / GRU layers in dynamic int8 (`scheme` "int8"), or unchanged (None)."""
    if scheme is None:
        return model
    if scheme not in QUANTIZATIONS:
        raise ConfigError(f"--quantize: unknown quantization {scheme!r} (choose from: {', '.join(QUANTIZATIONS)})")
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, Seq2SeqHead) and module.output is None:
            vocabulary, width = module.embedding.weight.shape
            untied = nn.Linear(width, vocabulary)
            with torch.no_grad():
                untied.weight.copy_(module.embedding.weight)
                untied.bias.copy_(module.output_bias)
            module.output = untied
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        from torch.ao.quantization import quantize_dynamic

        quantized = quantize_dynamic(model.eval(), {nn.Linear, nn.LSTM, nn.GRU}, dtype=torch.qint8, inplace=True)
        # A pretrained encoder keeps its frozen transformer outside the module tree, so it is quantized on its own.
        for module in quantized.modules():
            if isinstance(module, PretrainedEncoder):
                # In place: the deep copy above already made this transformer the quantized model's own.
                module.replace_transformer(
                    quantize_dynamic(module.transformer, {nn.Linear}, dtype=torch.qint8, inplace=True)
                )
    return quantized.eval()
