"""Training speed of every recurrent cell relative to the fused LSTM, measured in the same run; prints JSON.

One training step = forward and backward through a one-layer, one-direction RecurrentLayer (input and hidden
size 256 by default, batch 64, 30 steps, no padding) plus an Adam update. The cells take turns within each
round, so load on a shared machine hits them alike; the figure per cell is the median over rounds.

    PYTHONPATH=. python benchmarks/cells.py --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from benchmarks.common import machine
from seqkit.layers.cells import CELLS
from seqkit.layers.rnn import RecurrentLayer


def time_steps(layer: RecurrentLayer, optimizer, inputs, lengths, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        outputs, final = layer(inputs, lengths)
        (outputs.square().mean() + final.square().mean()).backward()
        optimizer.step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--length", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5, help="training steps timed per cell per round")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cells", nargs="*", default=list(CELLS))
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.manual_seed(0)
    cells = ["lstm", *[cell for cell in arguments.cells if cell != "lstm"]]
    inputs = torch.randn(arguments.batch, arguments.length, arguments.hidden)  # (B, T, D)
    lengths = torch.full((arguments.batch,), arguments.length)
    setups = {}
    for cell in cells:
        layer = RecurrentLayer(arguments.hidden, arguments.hidden, bidirectional=False, cell=cell)
        optimizer = torch.optim.Adam(layer.parameters(), lr=1e-4)
        time_steps(layer, optimizer, inputs, lengths, 3)  # warm up: first calls allocate and tune
        setups[cell] = (layer, optimizer)
    tokens = arguments.batch * arguments.length * arguments.steps
    rates: dict[str, list[float]] = {cell: [] for cell in cells}
    for _ in range(arguments.rounds):
        for cell in cells:
            layer, optimizer = setups[cell]
            rates[cell].append(tokens / time_steps(layer, optimizer, inputs, lengths, arguments.steps))
    medians = {cell: statistics.median(values) for cell, values in rates.items()}
    report = {
        "setting": {key: value for key, value in vars(arguments).items() if key != "cells"},
        "machine": machine(),
        "tokens_per_second": {cell: round(value) for cell, value in medians.items()},
        "relative_to_fused_lstm": {cell: round(rate / medians["lstm"], 3) for cell, rate in medians.items()},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
