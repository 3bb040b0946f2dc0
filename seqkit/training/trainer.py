"""The Trainer: one loop for every task.

It knows one contract, `out = model(batch)` and `out.loss.backward()`, plus two callables a task hands it:
`batches(epoch)` (that epoch's batches, a pure function of the seed and the epoch) and `evaluate(model)` (dev
scores, a dict holding `metric`). `fit` is the loop; its collaborators each do one thing: the optimizer and the
learning-rate schedule (optimizer.py), one step with clipping, AMP and data parallelism (step.py), where training
stands (state.py), the checkpoint that resumes it (last_checkpoint.py), stopping on a signal (stop_signals.py) and
averaging the last epochs' weights (averaging.py). The best weights go to `model.safetensors`, the latest state
to `checkpoints/last/`.

Exact resume: the checkpoint stores the weights, the optimizer moments, the global RNG state and the position
in the epoch. Because batch order is recomputed from (seed, epoch) and the schedule from the step, a resumed
run takes the same steps with the same random numbers as an uninterrupted one. Ctrl-C and SIGTERM stop at the
next step boundary, save that state, and leave a run that `--resume` continues; a second Ctrl-C quits at once,
keeping the last complete checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from seqkit.config import TrainConfig
from seqkit.errors import TrainingInterrupted
from seqkit.run_dirs.checkpoint import save_tensors
from seqkit.runtime import distributed
from seqkit.runtime.device import model_device
from seqkit.runtime.memory import peak_memory_mib
from seqkit.training.averaging import EpochAverage
from seqkit.training.last_checkpoint import load_last_checkpoint, save_last_checkpoint
from seqkit.training.optimizer import build_optimizer, set_learning_rate
from seqkit.training.state import TrainerState
from seqkit.training.step import TrainingStep
from seqkit.training.stop_signals import StopSignals


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        run_dir: Path,
        batches: Callable[[int], Iterable[dict]],
        evaluate: Callable[[nn.Module], dict[str, float]] | None,
        metric: str,
        seed: int,
        show_progress: bool | None = None,
        after_epoch: Callable[[list[dict]], None] | None = None,
        last_epoch: int | None = None,
        checkpoints: bool = True,
    ):
        """`after_epoch(history)` runs in the main process after each epoch's log.jsonl is written.

        Without `evaluate` (a refit on train + dev, seqkit/training/refit.py) nothing is scored and every epoch's
        weights replace the last. `last_epoch` stops training after that epoch while the learning-rate schedule
        still runs over `config.epochs`, as it did in the run whose best epoch it was. Without `checkpoints`
        nothing is saved for --resume (a refit, which starts again from its beginning, has no use for it).
        """
        self.model = model
        self.config = config
        self.run_dir = Path(run_dir)
        self.batches = batches
        self.evaluate = evaluate
        self.metric = metric
        self.seed = seed
        self.show_progress = show_progress
        self.after_epoch = after_epoch
        self.checkpoints = checkpoints
        self.last_epoch = min(config.epochs, last_epoch) if last_epoch is not None else config.epochs
        self.optimizer = build_optimizer(model.parameters(), config)
        # The model is already where it should run (api.train moves it); batches follow it there.
        self.step = TrainingStep(model, self.optimizer, config, model_device(model), self.run_dir)
        self.rank = self.step.rank
        self.state = TrainerState()
        self.stop = StopSignals()
        self.averaging = EpochAverage(self.run_dir, config.average_last) if config.average_last else None
        self._collated: Sequence[dict] = []
        self._collated_epoch: int | None = None

    # ---- the loop ---------------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> TrainerState:
        """Train to the end (or early stop). Raises TrainingInterrupted after saving on Ctrl-C / SIGTERM."""
        if resume:
            self.state = load_last_checkpoint(self.run_dir, self.model, self.optimizer, self.rank, self.step.world_size)
        else:
            torch.manual_seed(self.seed + self.rank)  # each process draws its own dropout masks
        # Every epoch has as many batches as this one; the schedule needs the total before the first step.
        total_steps = len(self._epoch_batches(self.state.epoch)) * self.config.epochs
        if self.config.max_steps is not None:
            total_steps = min(total_steps, self.config.max_steps)
        with self.stop:
            while not self.state.finished and self.state.epoch < self.last_epoch and not self.stop.requested:
                started = time.perf_counter()
                if self._train_epoch(total_steps):
                    self._close_epoch(started)
        if self.stop.requested:
            self.save_checkpoint()
            raise TrainingInterrupted(
                f"training stopped at epoch {self.state.epoch + 1}, step {self.state.step}; "
                f"checkpoint saved, continue with --resume (run dir {self.run_dir})"
            )
        if self.averaging is not None and self.rank == 0 and self.state.averaged is None:
            self._score_average()
        self.state.finished = True
        self.save_checkpoint()
        return self.state

    def _train_epoch(self, total_steps: int) -> bool:
        """Take the epoch's remaining steps, until its end or the step budget (True), or a stop request (False)."""
        batches = self._epoch_batches(self.state.epoch)
        self.model.train()
        show = self.show_progress if self.rank == 0 else False
        # Indices, not the batches: a streamed epoch collates each batch only when it is reached.
        progress = tqdm(
            range(self.state.batch_in_epoch, len(batches)),
            desc=f"epoch {self.state.epoch + 1}/{self.config.epochs}",
            disable=not show if show is not None else None,
            leave=False,
            unit="batch",
        )
        for index in progress:
            batch = batches[index]
            set_learning_rate(self.optimizer, self.config, self.state.step, total_steps, self.state.epoch)
            if not self.step.fits(batch):
                self.state.batch_in_epoch += 1
                continue
            loss, clipped = self.step(batch, self.state.step + 1)
            self.state.count_step(loss, clipped, batch.get("lengths"))
            progress.set_postfix(loss=f"{self.state.mean_loss():.4f}")
            if self.config.max_steps is not None and self.state.step >= self.config.max_steps:
                self.state.finished = True  # the step budget ends the run after this epoch's evaluation
                break
            if self.step.world_size > 1:
                self.stop.requested = distributed.any_across(self.stop.requested)
            if self.stop.requested:
                progress.close()
                return False
        progress.close()
        return True

    def _close_epoch(self, started: float) -> None:
        """Score the epoch on dev, keep its weights when they are the best so far, log it, and checkpoint."""
        if self.evaluate is None:
            scores, value = {}, None
        else:
            scores = distributed.broadcast_from_main(self.evaluate(self.model) if self.rank == 0 else None)
            value = scores[self.metric]
        record = {
            **self.state.epoch_figures(),
            "learning_rate": self.optimizer.param_groups[0]["lr"],
            "seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mib": peak_memory_mib(),
            **{f"dev_{name}": score for name, score in scores.items()},
        }
        improved = self.state.close_epoch(record, value, self.config.patience, self.config.target)
        if improved and self.rank == 0:
            save_tensors(self.run_dir / "model.safetensors", self.model.state_dict())
        if self.averaging is not None and self.rank == 0:
            self.averaging.keep(self.model, record["epoch"])
        self.save_checkpoint()
        if self.rank == 0 and self.after_epoch is not None:
            self.after_epoch(self.state.history)
        if self.rank == 0:
            scored = f"  dev {self.metric} {value:.2f}{'  (best)' if improved else ''}" if scores else ""
            tqdm.write(f"epoch {record['epoch']}: loss {record['train_loss']:.4f}{scored}  {record['seconds']:.1f}s")

    def _score_average(self) -> None:
        """Score the average of the last epochs on dev; it becomes model.safetensors if it is at least as good."""
        averaged = self.averaging.averaged()
        if averaged is None:  # fewer than two epochs trained
            return
        own = {name: tensor.detach().clone() for name, tensor in self.model.state_dict().items()}
        self.model.load_state_dict(averaged)
        scores = self.evaluate(self.model)
        kept = scores[self.metric] >= self.state.best_metric
        if kept:
            save_tensors(self.run_dir / "model.safetensors", averaged)
        # The checkpoint saved next holds the last epoch's own weights, which a continued run would go on from.
        self.model.load_state_dict(own)
        epochs = self.averaging.epochs()
        self.state.averaged = {"epochs": epochs, "kept": kept, **{f"dev_{name}": s for name, s in scores.items()}}
        tqdm.write(
            f"average of epochs {epochs[0]}-{epochs[-1]}: dev {self.metric} {scores[self.metric]:.2f}"
            f"{' (kept)' if kept else f' (not kept: epoch {self.state.best_epoch} had {self.state.best_metric:.2f})'}"
        )

    def _epoch_batches(self, epoch: int) -> Sequence[dict]:
        """That epoch's batches, collated once (fit counts them before the epoch trains on them).

        A Sequence (a streamed epoch, seqkit/data/streaming.py) is kept as it is and collates batch by batch.
        """
        if self._collated_epoch != epoch:
            batches = self.batches(epoch)
            self._collated = batches if isinstance(batches, Sequence) else list(batches)
            self._collated_epoch = epoch
        return self._collated

    def save_checkpoint(self) -> None:
        """Replace checkpoints/last with this moment of training (every process's RNG; rank 0 writes)."""
        if not self.checkpoints:
            return
        rng_states = distributed.gather_rng_states()
        if self.rank == 0:
            save_last_checkpoint(self.run_dir, self.model, self.optimizer, self.state, rng_states)
