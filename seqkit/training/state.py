"""Where training stands: the position in the run, the best epoch so far, and the running sums of the epoch.

The whole state is saved with every checkpoint (as JSON) so that a resumed run, even one stopped mid-epoch,
logs the same figures as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class TrainerState:
    epoch: int = 0  # the epoch in progress (0-based)
    batch_in_epoch: int = 0  # batches of that epoch already taken
    step: int = 0  # optimizer steps taken in all
    best_metric: float | None = None
    best_epoch: int | None = None
    epochs_without_improvement: int = 0
    finished: bool = False
    # Running sums of the epoch in progress, so that an epoch resumed mid-way logs the same figures.
    epoch_loss_sum: float = 0.0
    epoch_batches: int = 0
    epoch_clipped: int = 0
    # Real and padded tokens of the epoch's batches (from each batch's `lengths`), for the padding fraction.
    epoch_tokens: int = 0
    epoch_padded_tokens: int = 0
    history: list[dict] = field(default_factory=list)
    # With train.average_last, once training ends: the averaged epochs, the average's dev scores and whether it
    # replaced the best epoch's weights (seqkit/training/averaging.py).
    averaged: dict | None = None

    def count_step(self, loss: float, clipped: bool, lengths: torch.Tensor | None) -> None:
        """Add one optimizer step on a batch of (B,) `lengths` (None for batches without them)."""
        self.step += 1
        self.batch_in_epoch += 1
        self.epoch_loss_sum += loss
        self.epoch_batches += 1
        self.epoch_clipped += int(clipped)
        if lengths is not None:
            self.epoch_tokens += int(lengths.sum())
            self.epoch_padded_tokens += int(lengths.max()) * len(lengths)

    def mean_loss(self) -> float:
        return self.epoch_loss_sum / max(1, self.epoch_batches)

    def close_epoch(
        self, record: dict, value: float | None, patience: int | None, target: float | None = None
    ) -> bool:
        """Log the finished epoch with its dev metric `value`; returns whether it is the best so far.

        Training finishes once `patience` epochs in a row have not improved on the best, or once `value`
        reaches `target`. Without a dev metric (None: a refit on train + dev) every epoch counts as the best.
        """
        improved = value is None or self.best_metric is None or value > self.best_metric
        if improved:
            self.best_metric, self.best_epoch = value, self.epoch + 1
            self.epochs_without_improvement = 0
        else:
            self.epochs_without_improvement += 1
        self.history.append(record)
        self.epoch += 1
        self.batch_in_epoch = 0
        self.epoch_loss_sum, self.epoch_batches, self.epoch_clipped = 0.0, 0, 0
        self.epoch_tokens, self.epoch_padded_tokens = 0, 0
        if patience is not None and self.epochs_without_improvement >= patience:
            self.finished = True
        if target is not None and value is not None and value >= target:
            self.finished = True
        return improved

    def epoch_figures(self) -> dict:
        """The epoch's training figures for its log record."""
        return {
            "epoch": self.epoch + 1,
            "step": self.step,
            "train_loss": self.mean_loss(),
            "clipped_fraction": self.epoch_clipped / max(1, self.epoch_batches),
            # Share of the batches' token positions that were padding: what length bucketing is meant to keep low.
            "padding_fraction": 1 - self.epoch_tokens / self.epoch_padded_tokens if self.epoch_padded_tokens else None,
        }
