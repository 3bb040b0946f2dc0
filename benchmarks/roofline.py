"""The arithmetic ceiling of a recurrent model on this machine: how many items per second it could handle if
every floating-point operation of its recurrent layers ran at the speed of a large matrix product.

A throughput target is only reachable if it sits under this ceiling. The count covers the recurrent layers'
gate products alone (the bulk of a tagger's or encoder's work); embeddings, output layers, a CRF and Python
are left out, so the true ceiling is lower still, never higher.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

# Gate blocks per cell: each block is one (input + hidden) x hidden product.
GATES = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}


def recurrent_flops_per_token(model: nn.Module) -> int:
    """Floating-point operations (a multiply-add counts 2) that the fused recurrent layers of `model` spend on
    one token: for each layer and direction, 2 x gates x hidden x (layer input + hidden)."""
    total = 0
    for module in model.modules():
        gates = next((count for kind, count in GATES.items() if type(module) is kind), None)
        if gates is None:
            continue
        directions = 2 if module.bidirectional else 1
        layer_input = module.input_size
        for _ in range(module.num_layers):
            total += directions * 2 * gates * module.hidden_size * (layer_input + module.hidden_size)
            layer_input = directions * module.hidden_size
    return total


def matmul_peak_flops(size: int = 1024, repeats: int = 7) -> float:
    """Median floating-point operations per second of a (size x size) @ (size x size) product, at the current
    torch thread count: what this process can get from the machine at best."""
    left, right = torch.randn(size, size), torch.randn(size, size)
    left @ right  # warm-up: the first call allocates and picks a kernel
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        left @ right
        rates.append(2 * size**3 / (time.perf_counter() - started))
    return statistics.median(rates)
