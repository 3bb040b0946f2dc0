"""The Trainer's collaborators, each on its own: stop signals, the epoch state, clipping, and the checkpoint."""

import os
import signal
from dataclasses import replace

import pytest
import torch
from torch import nn

from seqkit.config import TrainConfig
from seqkit.errors import RunDirError
from seqkit.training.last_checkpoint import load_last_checkpoint, save_last_checkpoint
from seqkit.training.optimizer import build_optimizer
from seqkit.training.state import TrainerState
from seqkit.training.step import clip_gradients
from seqkit.training.stop_signals import StopSignals


def test_the_first_signal_asks_to_stop_and_the_second_ctrl_c_quits():
    before = signal.getsignal(signal.SIGINT)
    with StopSignals() as stop:
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are put back


def test_patience_finishes_after_that_many_epochs_without_improvement():
    state = TrainerState()
    improvements = [
        state.close_epoch({"epoch": number}, value, patience=2) for number, value in enumerate([5, 7, 6, 7])
    ]
    assert improvements == [True, True, False, False]  # equal to the best is no improvement
    assert state.finished and state.best_epoch == 2 and state.best_metric == 7 and state.epoch == 4
    assert [record["epoch"] for record in state.history] == [0, 1, 2, 3]


def test_a_target_finishes_at_the_first_epoch_that_reaches_it():
    state = TrainerState()
    for value in (70.0, 79.9):
        state.close_epoch({}, value, patience=None, target=80.0)
        assert not state.finished
    state.close_epoch({}, 80.0, patience=None, target=80.0)
    assert state.finished and state.best_epoch == 3


def test_an_epoch_resumed_mid_way_reports_the_same_figures():
    whole, resumed = TrainerState(), TrainerState()
    lengths = [torch.tensor([3, 1]), torch.tensor([2, 2])]
    for loss, clipped, batch_lengths in zip([1.0, 3.0], [True, False], lengths, strict=True):
        whole.count_step(loss, clipped, batch_lengths)
    resumed.count_step(1.0, True, lengths[0])
    resumed = TrainerState(**{**resumed.__dict__})  # what the checkpoint's JSON gives back
    resumed.count_step(3.0, False, lengths[1])
    assert resumed.epoch_figures() == whole.epoch_figures()
    assert whole.epoch_figures()["train_loss"] == 2.0 and whole.epoch_figures()["clipped_fraction"] == 0.5
    assert whole.epoch_figures()["padding_fraction"] == pytest.approx(1 - 8 / 10)


def test_clipping_reports_whether_it_changed_the_gradient():
    layer = nn.Linear(2, 1, bias=False)
    layer.weight.grad = torch.tensor([[3.0, 4.0]])  # norm 5
    assert not clip_gradients(layer, TrainConfig(clip_norm=10.0))
    assert clip_gradients(layer, TrainConfig(clip_norm=1.0))
    assert float(layer.weight.grad.norm()) == pytest.approx(1.0)
    layer.weight.grad = torch.tensor([[3.0, -4.0]])
    assert clip_gradients(layer, TrainConfig(clip_value=1.0, clip_norm=None))
    assert layer.weight.grad.tolist() == [[1.0, -1.0]]


def test_the_checkpoint_brings_back_weights_moments_random_state_and_position(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    config = TrainConfig(learning_rate=0.1)
    optimizer = build_optimizer(model.parameters(), config)
    model(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    state = replace(TrainerState(), epoch=1, step=7, best_metric=0.5, history=[{"epoch": 1}])
    save_last_checkpoint(tmp_path, model, optimizer, state, [torch.get_rng_state()])
    expected_draw = torch.rand(3)
    fresh = nn.Linear(3, 2)
    fresh_optimizer = build_optimizer(fresh.parameters(), config)
    loaded = load_last_checkpoint(tmp_path, fresh, fresh_optimizer, rank=0, world_size=1)
    assert loaded == state
    assert torch.equal(torch.rand(3), expected_draw)  # the random state continues where it was saved
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), fresh.state_dict().values(), strict=True))
    moments = optimizer.state_dict()["state"][0]["exp_avg"]
    assert torch.equal(fresh_optimizer.state_dict()["state"][0]["exp_avg"], moments)
    assert (tmp_path / "log.jsonl").read_text() == '{"epoch": 1}\n'
    with pytest.raises(RunDirError, match="resume with the same number"):
        load_last_checkpoint(tmp_path, fresh, fresh_optimizer, rank=0, world_size=2)
