"""The Trainer: one loop for every task.

It knows one contract, `out = model(batch)` and `out.loss.backward()`, plus two callables a task hands it:
`batches(epoch)` (that epoch's batches, a pure function of the seed and the epoch) and `evaluate(model)` (dev
scores, a dict holding `metric`). Around the loop: AdamW (or SGD), gradient clipping by norm and/or value with the
clipped fraction logged, a learning-rate schedule computed from the step number, early stopping on the dev
metric, the best weights in `model.safetensors`, and the latest state in `checkpoints/last/`.

Exact resume: the checkpoint stores the weights, the optimizer moments, the global RNG state and the position
in the epoch. Because batch order is recomputed from (seed, epoch) and the schedule from the step, a resumed
run takes the same steps with the same random numbers as an uninterrupted one. Ctrl-C and SIGTERM stop at the
next step boundary, save that state, and leave a run that `--resume` continues; a second Ctrl-C quits at once,
keeping the last complete checkpoint.
"""

from __future__ import annotations

import json
import math
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from seqkit.config import SCHEDULES, TrainConfig
from seqkit.errors import ConfigError, RunDirError, SeqkitError, TrainingInterrupted
from seqkit.files import atomic_replace_directory, atomic_write_json, atomic_write_text, settled_directory
from seqkit.run_dirs.checkpoint import load_state_into, load_tensors, read_json, save_tensors
from seqkit.run_dirs.layout import LAST_CHECKPOINT
from seqkit.runtime import distributed
from seqkit.runtime.device import model_device, to_device
from seqkit.runtime.memory import peak_memory_mib


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


def learning_rate_factor(
    step: int,
    total_steps: int,
    schedule: str,
    warmup_steps: int,
    epoch: int = 0,
    hold_epochs: int = 0,
    halve_every_epochs: int = 1,
) -> float:
    """Multiplier of the base learning rate at `step` (0-based), which falls in `epoch` (0-based).

    "step" is the staircase of the memory-network paper (Sukhbaatar et al. 2015): the full rate for
    `hold_epochs` epochs, then half of it, halved again every `halve_every_epochs` epochs.
    """
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        halvings = 0 if epoch < hold_epochs else 1 + (epoch - hold_epochs) // halve_every_epochs
        return 0.5**halvings
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "linear":
        return 1.0 - progress
    if schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * progress))
    raise ValueError(f"train.schedule: unknown schedule {schedule!r} (choose from: {', '.join(SCHEDULES)})")


def build_optimizer(parameters: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW as most tasks train with it (benchmarks/harness.py times the same one), or plain SGD.

    The fused kernel reads and writes each parameter's moments once per step. Against the foreach kernels
    (a pass per arithmetic operation) it made a step 3x faster on a 4M-weight hashed-bigram table on one CPU
    thread (9 ms against 28 ms); the update is the same AdamW, up to rounding. Plain SGD (no momentum) is
    the optimizer of the memory-network paper, whose recipe it lets us follow step for step.
    """
    parameters = list(parameters)
    if config.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    fused = all(parameter.device.type in ("cpu", "cuda") for parameter in parameters)
    return torch.optim.AdamW(
        parameters, lr=config.learning_rate, weight_decay=config.weight_decay, fused=fused, foreach=not fused
    )


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        config: TrainConfig,
        run_dir: Path,
        batches: Callable[[int], Iterable[dict]],
        evaluate: Callable[[nn.Module], dict[str, float]],
        metric: str,
        seed: int,
        show_progress: bool | None = None,
        after_epoch: Callable[[list[dict]], None] | None = None,
    ):
        """`after_epoch(history)` runs in the main process after each epoch's log.jsonl is written."""
        self.model = model
        self.config = config
        self.run_dir = Path(run_dir)
        self.batches = batches
        self.evaluate = evaluate
        self.metric = metric
        self.seed = seed
        self.show_progress = show_progress
        self.after_epoch = after_epoch
        self.optimizer = build_optimizer(model.parameters(), config)
        # The model is already where it should run (api.train moves it); batches follow it there.
        self.device = model_device(model)
        if config.amp and self.device.type != "cuda":
            raise ConfigError(f"train.amp: mixed precision needs --device cuda (this run is on {self.device})")
        # float16 autocast; the scaler keeps small gradients from underflowing (a no-op when amp is off).
        self.scaler = torch.amp.GradScaler("cuda") if config.amp else None
        # Several processes (torchrun): gradients are averaged by DistributedDataParallel.
        self.world_size = distributed.world_size()
        self.rank = distributed.rank()
        if self.world_size > 1:
            device_ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model: nn.Module = nn.parallel.DistributedDataParallel(model, device_ids=device_ids)
        else:
            self.train_model = model
        self.state = TrainerState()
        self._stop_requested = False
        self._collated: list[dict] = []
        self._collated_epoch: int | None = None

    # ---- the loop ---------------------------------------------------------------------------------------
    def fit(self, resume: bool = False) -> TrainerState:
        """Train to the end (or early stop). Raises TrainingInterrupted after saving on Ctrl-C / SIGTERM."""
        if resume:
            self.load_checkpoint()
        else:
            torch.manual_seed(self.seed + self.rank)  # each process draws its own dropout masks
        # Every epoch has as many batches as this one; the schedule needs the total before the first step.
        total_steps = len(self._epoch_batches(self.state.epoch)) * self.config.epochs
        if self.config.max_steps is not None:
            total_steps = min(total_steps, self.config.max_steps)
        previous_handlers = self._install_stop_handlers()
        try:
            while not self.state.finished and self.state.epoch < self.config.epochs and not self._stop_requested:
                self._run_epoch(total_steps)
        finally:
            for number, handler in previous_handlers.items():
                signal.signal(number, handler)
        if self._stop_requested:
            self.save_checkpoint()
            raise TrainingInterrupted(
                f"training stopped at epoch {self.state.epoch + 1}, step {self.state.step}; "
                f"checkpoint saved, continue with --resume (run dir {self.run_dir})"
            )
        self.state.finished = True
        self.save_checkpoint()
        return self.state

    def _run_epoch(self, total_steps: int) -> None:
        config = self.config
        batches = self._epoch_batches(self.state.epoch)
        started = time.perf_counter()
        state = self.state
        self.model.train()
        show = (self.show_progress if self.show_progress is not None else None) if self.rank == 0 else False
        # Indices, not the batches: a streamed epoch collates each batch only when it is reached.
        progress = tqdm(
            range(self.state.batch_in_epoch, len(batches)),
            desc=f"epoch {self.state.epoch + 1}/{config.epochs}",
            disable=not show if show is not None else None,
            leave=False,
            unit="batch",
        )
        for index in progress:
            batch = batches[index]
            factor = learning_rate_factor(
                self.state.step,
                total_steps,
                config.schedule,
                config.warmup_steps,
                epoch=self.state.epoch,
                hold_epochs=config.hold_epochs,
                halve_every_epochs=config.halve_every_epochs,
            )
            for group in self.optimizer.param_groups:
                group["lr"] = config.learning_rate * factor
            if distributed.examples_in(batch) < self.world_size:
                state.batch_in_epoch += 1  # a tail batch too small to give every process an example
                continue
            self.optimizer.zero_grad(set_to_none=True)
            local = distributed.shard(batch, self.rank, self.world_size) if self.world_size > 1 else batch
            local = to_device(local, self.device)
            with torch.autocast("cuda", dtype=torch.float16, enabled=self.scaler is not None):
                loss = self.train_model(local).loss
            # This process's share of the global batch's mean loss (see seqkit/runtime/distributed.py).
            share = distributed.examples_in(local) / distributed.examples_in(batch)
            batch_loss = distributed.sum_across(loss.item() * share)
            if not math.isfinite(batch_loss):
                raise SeqkitError(
                    f"loss became {batch_loss} at step {self.state.step + 1}; the last good checkpoint is kept "
                    f"in {self.run_dir / LAST_CHECKPOINT}"
                )
            scaled = loss * share * self.world_size
            if self.scaler is None:
                scaled.backward()
                state.epoch_clipped += self._clip_gradients()
                self.optimizer.step()
            else:
                self.scaler.scale(scaled).backward()
                self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
                state.epoch_clipped += self._clip_gradients()
                self.scaler.step(self.optimizer)  # skipped when the gradients overflowed
                self.scaler.update()
            state.step += 1
            state.batch_in_epoch += 1
            state.epoch_loss_sum += batch_loss
            state.epoch_batches += 1
            if "lengths" in batch:
                lengths = batch["lengths"]  # (B,)
                state.epoch_tokens += int(lengths.sum())
                state.epoch_padded_tokens += int(lengths.max()) * len(lengths)
            progress.set_postfix(loss=f"{state.epoch_loss_sum / state.epoch_batches:.4f}")
            if config.max_steps is not None and state.step >= config.max_steps:
                state.finished = True  # the step budget ends the run after this epoch's evaluation
                break
            if self.world_size > 1:
                self._stop_requested = distributed.any_across(self._stop_requested)
            if self._stop_requested:
                progress.close()
                return
        progress.close()
        scores = distributed.broadcast_from_main(self.evaluate(self.model) if self.rank == 0 else None)
        value = scores[self.metric]
        record = {
            "epoch": self.state.epoch + 1,
            "step": self.state.step,
            "train_loss": state.epoch_loss_sum / max(1, state.epoch_batches),
            "learning_rate": self.optimizer.param_groups[0]["lr"],
            "clipped_fraction": state.epoch_clipped / max(1, state.epoch_batches),
            # Share of the batches' token positions that were padding: what length bucketing is meant to keep low.
            "padding_fraction": (1 - state.epoch_tokens / state.epoch_padded_tokens)
            if state.epoch_padded_tokens
            else None,
            "seconds": round(time.perf_counter() - started, 3),
            "peak_rss_mib": peak_memory_mib(),
            **{f"dev_{name}": score for name, score in scores.items()},
        }
        improved = self.state.best_metric is None or value > self.state.best_metric
        if improved:
            self.state.best_metric, self.state.best_epoch = value, self.state.epoch + 1
            self.state.epochs_without_improvement = 0
            if self.rank == 0:
                save_tensors(self.run_dir / "model.safetensors", self.model.state_dict())
        else:
            self.state.epochs_without_improvement += 1
        self.state.history.append(record)
        self.state.epoch += 1
        self.state.batch_in_epoch = 0
        state.epoch_loss_sum, state.epoch_batches, state.epoch_clipped = 0.0, 0, 0
        state.epoch_tokens, state.epoch_padded_tokens = 0, 0
        if config.patience is not None and self.state.epochs_without_improvement >= config.patience:
            self.state.finished = True
        self.save_checkpoint()
        if self.rank == 0 and self.after_epoch is not None:
            self.after_epoch(self.state.history)
        if self.rank == 0:
            tqdm.write(
                f"epoch {record['epoch']}: loss {record['train_loss']:.4f}  dev {self.metric} {value:.2f}"
                f"{'  (best)' if improved else ''}  {record['seconds']:.1f}s"
            )

    def _epoch_batches(self, epoch: int) -> Sequence[dict]:
        """That epoch's batches, collated once (fit counts them before _run_epoch trains on them).

        A Sequence (a streamed epoch, seqkit/data/streaming.py) is kept as it is and collates batch by batch.
        """
        if self._collated_epoch != epoch:
            batches = self.batches(epoch)
            self._collated = batches if isinstance(batches, Sequence) else list(batches)
            self._collated_epoch = epoch
        return self._collated

    def _clip_gradients(self) -> int:
        """Clip by value, then by global norm; returns 1 when clipping changed the gradient."""
        changed = 0
        parameters = [p for p in self.model.parameters() if p.grad is not None]
        if self.config.clip_value is not None:
            limit = self.config.clip_value
            changed = int(any(bool((p.grad.abs() > limit).any()) for p in parameters))
            nn.utils.clip_grad_value_(parameters, limit)
        if self.config.clip_norm is not None:
            norm = nn.utils.clip_grad_norm_(parameters, self.config.clip_norm)
            changed = max(changed, int(norm > self.config.clip_norm))
        return changed

    def _install_stop_handlers(self) -> dict:
        """Ctrl-C and SIGTERM ask the loop to stop after the current step; a second Ctrl-C stops at once."""
        previous = {}
        for number in (signal.SIGINT, signal.SIGTERM):
            try:
                previous[number] = signal.signal(number, self._request_stop)
            except ValueError:  # not the main thread: signals keep their handlers
                pass
        return previous

    def _request_stop(self, signal_number, frame) -> None:
        if self._stop_requested and signal_number == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: the last complete checkpoint stays as it is
        self._stop_requested = True
        tqdm.write("stopping after this step; saving a checkpoint (Ctrl-C again to quit at once)")

    # ---- checkpoints ------------------------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Replace checkpoints/last atomically with weights, optimizer, RNG and trainer state (rank 0 writes)."""
        rng_states = distributed.gather_rng_states()
        if self.rank != 0:
            return
        optimizer_tensors, optimizer_layout = _flatten_optimizer(self.optimizer)

        def fill(folder: Path) -> None:
            save_tensors(folder / "model.safetensors", self.model.state_dict())
            save_tensors(folder / "optimizer.safetensors", optimizer_tensors)
            save_tensors(folder / "rng.safetensors", {f"torch.{i}": state for i, state in enumerate(rng_states)})
            atomic_write_json(folder / "optimizer.json", optimizer_layout)
            atomic_write_json(folder / "trainer.json", asdict(self.state))

        atomic_replace_directory(self.run_dir / LAST_CHECKPOINT, fill)
        lines = "".join(json.dumps(record) + "\n" for record in self.state.history)
        atomic_write_text(self.run_dir / "log.jsonl", lines)

    def load_checkpoint(self) -> None:
        folder = settled_directory(self.run_dir / LAST_CHECKPOINT)
        if folder is None:
            raise RunDirError(
                f"{self.run_dir / LAST_CHECKPOINT}: no checkpoint to resume from (training stopped before the "
                "first one); start again with --overwrite"
            )
        load_state_into(self.model, load_tensors(folder / "model.safetensors"), str(folder / "model.safetensors"))
        _restore_optimizer(
            self.optimizer,
            load_tensors(folder / "optimizer.safetensors"),
            read_json(folder / "optimizer.json", "optimizer state"),
        )
        rng_states = load_tensors(folder / "rng.safetensors")
        if f"torch.{self.rank}" not in rng_states or len(rng_states) != self.world_size:
            raise RunDirError(
                f"{folder}: saved by {len(rng_states)} process(es); resume with the same number ({self.world_size} now)"
            )
        torch.set_rng_state(rng_states[f"torch.{self.rank}"])
        saved = read_json(folder / "trainer.json", "trainer state")
        try:
            self.state = TrainerState(**saved)
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
