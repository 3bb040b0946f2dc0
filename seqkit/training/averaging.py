"""Checkpoint averaging: the element-wise mean of the weights of a run's last few epochs.

Neural translation systems commonly decode with the average of their last checkpoints rather than the last one
alone (Vaswani et al. 2017 averaged the last 5 or 20; Popel and Bojar 2018 measured the gain): weights that the
optimizer left scattered around a minimum average to a point nearer its centre, which usually scores a little
higher and never costs a step of training.

With `train.average_last: N` the Trainer writes each epoch's weights to `checkpoints/epochs/` (keeping the last N,
so a resumed run still has them) and, once training ends, scores their average on dev. The average replaces the
best epoch's weights in model.safetensors only when it scores at least as high, so the choice is made on dev.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from seqkit.run_dirs.checkpoint import load_tensors, save_tensors
from seqkit.run_dirs.layout import CHECKPOINTS

EPOCH_WEIGHTS = Path(CHECKPOINTS) / "epochs"


class EpochAverage:
    """Keeps the weights of the last `count` epochs in `run_dir/checkpoints/epochs/` and averages them."""

    def __init__(self, run_dir: Path, count: int):
        self.folder = Path(run_dir) / EPOCH_WEIGHTS
        self.count = count

    def _files(self) -> list[tuple[int, Path]]:
        """The kept (epoch, file) pairs, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [(int(path.stem.split("-")[1]), path) for path in self.folder.glob("epoch-*.safetensors")]
        return sorted(found)

    def keep(self, model: nn.Module, epoch: int) -> None:
        """Write the weights of `epoch` (1-based) and drop those older than the last `count`."""
        self.folder.mkdir(parents=True, exist_ok=True)
        save_tensors(self.folder / f"epoch-{epoch}.safetensors", model.state_dict())
        for _, path in self._files()[: -self.count]:
            path.unlink()

    def epochs(self) -> list[int]:
        return [epoch for epoch, _ in self._files()]

    def averaged(self) -> dict[str, torch.Tensor] | None:
        """The mean of the kept weights (floating-point tensors; others from the latest epoch), or None under two."""
        files = self._files()
        if len(files) < 2:
            return None
        states = [load_tensors(path) for _, path in files]
        latest = states[-1]
        average = {}
        for name, tensor in latest.items():
            if tensor.is_floating_point():
                # Summed in float64 so that the mean of equal tensors is that tensor to the last bit.
                total = sum(state[name].double() for state in states)
                average[name] = (total / len(states)).to(tensor.dtype)
            else:
                average[name] = tensor
        return average
