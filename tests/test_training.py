"""The trainer: exact resume after Ctrl-C, checkpoints, clipping, schedules."""

import json
import os
import signal

import pytest
import torch
from torch import nn

from seqkit.api import load_recipe
from seqkit.config import TrainConfig
from seqkit.data.readers import read_atis_split
from seqkit.errors import TrainingInterrupted
from seqkit.model import build_model
from seqkit.run_dirs.checkpoint import load_tensors
from seqkit.tasks import get_task
from seqkit.training.optimizer import build_optimizer, learning_rate_factor
from seqkit.training.trainer import Trainer

from conftest import TINY_ATIS, write_recipe


class InterruptAt(torch.nn.Module):
    """Wraps a model and delivers a real signal (SIGINT unless told) to this process on its n-th training call."""

    def __init__(self, model, call: int, signal_number: int = signal.SIGINT):
        super().__init__()
        self.model = model
        self.call = call
        self.calls = 0
        self.signal_number = signal_number

    def forward(self, batch):
        if self.training:
            self.calls += 1
            if self.calls == self.call:
                os.kill(os.getpid(), self.signal_number)
        return self.model(batch)


def make_trainer(tmp_path, run_dir, interrupt_at=None, signal_number=signal.SIGINT, encoder=None, **train):
    sections = {"encoder": encoder} if encoder else {}
    recipe = load_recipe(None, write_recipe(tmp_path, head={"dropout": 0.3}, train={"epochs": 3, **train}, **sections))
    task = get_task("slot-filling")
    sentences = read_atis_split(TINY_ATIS / "train")
    vocabularies = task.build_vocabularies(recipe, sentences)
    torch.manual_seed(recipe.seed)
    model = build_model(recipe, vocabularies)
    # Always wrapped, so that checkpoints of interrupted and plain runs hold the same tensor names.
    model = InterruptAt(model, interrupt_at or 0, signal_number)
    return Trainer(
        model,
        recipe.train,
        run_dir,
        batches=task.training_batches(recipe, vocabularies, sentences),
        evaluate=lambda wrapper: task.evaluate(wrapper.model, recipe, vocabularies, sentences),
        metric="slot_f1",
        seed=recipe.seed,
        show_progress=False,
    )


def without_timings(history):
    return [{k: v for k, v in record.items() if k not in ("seconds", "peak_rss_mib")} for record in history]


SGD_STEPS = {"optimizer": "sgd", "learning_rate": 0.1, "schedule": "step", "hold_epochs": 1, "halve_every_epochs": 1}


@pytest.mark.parametrize(
    ("interrupt_at", "signal_number", "train"),
    [(2, signal.SIGINT, {}), (4, signal.SIGINT, {}), (7, signal.SIGINT, {}), (3, signal.SIGTERM, {})]
    + [(6, signal.SIGINT, SGD_STEPS)],
)  # mid-epoch, the last batch of epoch 1, mid-epoch 2; SIGTERM mid-epoch; SGD with a halved rate in epoch 2
def test_ctrl_c_then_resume_equals_an_uninterrupted_run(tmp_path, interrupt_at, signal_number, train):
    straight = make_trainer(tmp_path, tmp_path / "straight", **train)
    straight_state = straight.fit()

    interrupted = make_trainer(
        tmp_path, tmp_path / "interrupted", interrupt_at=interrupt_at, signal_number=signal_number, **train
    )
    with pytest.raises(TrainingInterrupted, match="--resume"):
        interrupted.fit()
    assert interrupted.state.step == interrupt_at  # the step in flight finished before stopping
    resumed = make_trainer(tmp_path, tmp_path / "interrupted", **train)
    resumed_state = resumed.fit(resume=True)

    assert without_timings(resumed_state.history) == without_timings(straight_state.history)
    final_straight = load_tensors(tmp_path / "straight" / "checkpoints" / "last" / "model.safetensors")
    final_resumed = load_tensors(tmp_path / "interrupted" / "checkpoints" / "last" / "model.safetensors")
    for name, tensor in final_straight.items():
        assert torch.equal(tensor, final_resumed[name]), name


def test_resume_is_exact_with_a_pretrained_encoder(tmp_path, tiny_bert):
    # The resumed process starts with an empty memory of encoded sentences and must read them to the same vectors.
    encoder = {"features": ["embedding", "pretrained"], "pretrained_model": tiny_bert}
    straight_state = make_trainer(tmp_path, tmp_path / "straight", encoder=encoder).fit()
    interrupted = make_trainer(tmp_path, tmp_path / "interrupted", interrupt_at=5, encoder=encoder)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        interrupted.fit()
    resumed_state = make_trainer(tmp_path, tmp_path / "interrupted", encoder=encoder).fit(resume=True)
    assert without_timings(resumed_state.history) == without_timings(straight_state.history)
    final_straight = load_tensors(tmp_path / "straight" / "checkpoints" / "last" / "model.safetensors")
    final_resumed = load_tensors(tmp_path / "interrupted" / "checkpoints" / "last" / "model.safetensors")
    assert "model.encoder.encoders.pretrained.fingerprint" in final_resumed
    for name, tensor in final_straight.items():
        assert torch.equal(tensor, final_resumed[name]), name


def test_best_weights_and_log_are_written(tmp_path):
    trainer = make_trainer(tmp_path, tmp_path / "run")
    state = trainer.fit()
    lines = (tmp_path / "run" / "log.jsonl").read_text().splitlines()
    assert len(lines) == 3 == len(state.history)
    assert (tmp_path / "run" / "model.safetensors").is_file()
    assert state.best_metric == max(record["dev_slot_f1"] for record in state.history)
    # Each epoch states the process's peak memory so far: at least the model's weights, never shrinking.
    peaks = [json.loads(line)["peak_rss_mib"] for line in lines]
    assert peaks[0] > 10 and peaks == sorted(peaks)


def test_clipping_by_norm_and_value_is_applied_and_logged(tmp_path):
    trainer = make_trainer(tmp_path, tmp_path / "run", clip_norm=1e-6, clip_value=1e-7, epochs=1)
    observed = []
    original = trainer.optimizer.step

    def spy(*args, **kwargs):
        gradients = [p.grad for p in trainer.model.parameters() if p.grad is not None]
        observed.append(max(g.abs().max().item() for g in gradients))
        observed.append(torch.linalg.vector_norm(torch.stack([g.norm() for g in gradients])).item())
        return original(*args, **kwargs)

    trainer.optimizer.step = spy
    state = trainer.fit()
    assert max(observed[0::2]) <= 1e-7 + 1e-12  # every entry within the value limit
    assert max(observed[1::2]) <= 1e-6 * 1.0001  # global norm within the norm limit
    assert state.history[0]["clipped_fraction"] == 1.0


def test_learning_rate_schedules():
    assert learning_rate_factor(0, 100, "linear", 10) == pytest.approx(0.1)
    assert learning_rate_factor(10, 100, "linear", 10) == pytest.approx(1.0)
    assert learning_rate_factor(55, 100, "linear", 10) == pytest.approx(0.5)
    assert learning_rate_factor(55, 100, "cosine", 10) == pytest.approx(0.5)
    assert learning_rate_factor(99, 100, "constant", 0) == 1.0


def test_step_schedule_holds_then_halves_every_few_epochs():
    def factor(epoch):
        return learning_rate_factor(0, 1, "step", 0, epoch=epoch, hold_epochs=30, halve_every_epochs=15)

    assert [factor(epoch) for epoch in (0, 29, 30, 44, 45, 60)] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]


def test_sgd_is_plain_gradient_descent(tmp_path):
    trainer = make_trainer(tmp_path, tmp_path / "run", optimizer="sgd", learning_rate=0.5, clip_norm=None)
    assert isinstance(trainer.optimizer, torch.optim.SGD)
    parameter = nn.Parameter(torch.tensor([1.0, -2.0]))
    optimizer = build_optimizer([parameter], TrainConfig(optimizer="sgd", learning_rate=0.5, weight_decay=0.0))
    (parameter**2).sum().backward()  # gradient 2 * parameter
    optimizer.step()
    assert torch.equal(parameter.detach(), torch.tensor([0.0, 0.0]))  # p - 0.5 * 2p


def test_early_stopping_on_the_dev_metric(tmp_path):
    # With an optimizer that never moves a weight the dev metric can never improve after the first epoch (a zero
    # learning rate would say the same, but the config refuses it as a mistake).
    trainer = make_trainer(tmp_path, tmp_path / "run", epochs=10, patience=2)
    trainer.optimizer.step = lambda *arguments, **options: None
    state = trainer.fit()
    assert len(state.history) == 3 and state.best_epoch == 1 and state.finished


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path):
    from seqkit.errors import SeqkitError

    trainer = make_trainer(tmp_path, tmp_path / "run", epochs=3)
    head = trainer.model.model.head
    original, calls = head.forward, []

    def poisoned(encoded, batch):
        # From the 6th training step on (epoch 2 of 4 batches an epoch, second batch) the loss is NaN.
        output = original(encoded, batch)
        if head.training:
            calls.append(1)
            if len(calls) >= 6:
                output.loss = output.loss * float("nan")
        return output

    head.forward = poisoned
    with pytest.raises(SeqkitError, match=r"loss became nan at step 6; the last good checkpoint is kept"):
        trainer.fit()
    saved = load_tensors(tmp_path / "run" / "checkpoints" / "last" / "model.safetensors")
    assert all(torch.isfinite(tensor).all() for tensor in saved.values())
    assert len((tmp_path / "run" / "log.jsonl").read_text().splitlines()) == 1
