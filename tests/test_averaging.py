"""Checkpoint averaging: the last epochs' weights are kept and averaged, and the average replaces the best epoch's
weights only when it scores at least as high on dev."""

import itertools

import pytest
import torch
from test_training import make_trainer
from torch import nn

from seqkit.run_dirs.checkpoint import load_tensors
from seqkit.training.averaging import EpochAverage


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))


def test_the_last_epochs_are_kept_and_averaged(tmp_path):
    model, average = Toy(), EpochAverage(tmp_path, count=3)
    assert average.averaged() is None
    weights = []
    for epoch in range(1, 5):
        with torch.no_grad():
            model.linear.weight.fill_(float(epoch))
            model.steps.fill_(10 * epoch)
        average.keep(model, epoch)
        weights.append(model.linear.weight.clone())
        if epoch == 1:
            assert average.averaged() is None  # one epoch is nothing to average
    assert average.epochs() == [2, 3, 4]
    averaged = average.averaged()
    assert torch.equal(averaged["linear.weight"], torch.full((2, 2), 3.0))  # (2 + 3 + 4) / 3
    assert averaged["steps"].item() == 40  # a count is not averaged: the latest epoch's
    assert averaged["linear.weight"].dtype == torch.float32


@pytest.mark.parametrize("average_score", [30.0, 29.0])
def test_the_average_is_kept_only_when_it_scores_at_least_as_high_on_dev(tmp_path, average_score):
    run = tmp_path / "run"
    trainer = make_trainer(tmp_path, run, average_last=2)
    # Dev scores by call: epochs 1-3, then the average of epochs 2 and 3.
    scores = iter([10.0, 20.0, 30.0, average_score])
    evaluated = []

    def evaluate(model):
        evaluated.append({name: tensor.clone() for name, tensor in model.state_dict().items()})
        return {"slot_f1": next(scores)}

    trainer.evaluate = evaluate
    state = trainer.fit()
    kept = average_score >= 30.0
    assert state.averaged == {"epochs": [2, 3], "kept": kept, "dev_slot_f1": average_score}
    epoch_files = [load_tensors(run / "checkpoints" / "epochs" / f"epoch-{epoch}.safetensors") for epoch in (2, 3)]
    saved = load_tensors(run / "model.safetensors")
    for name, tensor in saved.items():
        if tensor.is_floating_point():
            mean = (epoch_files[0][name].double() + epoch_files[1][name].double()) / 2
            expected = mean if kept else epoch_files[1][name]
            torch.testing.assert_close(tensor, expected.to(tensor.dtype), rtol=0, atol=1e-7)
    # What was scored last is the average; the model goes back to the last epoch's own weights afterwards.
    for name, tensor in itertools.islice(trainer.model.state_dict().items(), 5):
        torch.testing.assert_close(tensor, epoch_files[1][name])
        if tensor.is_floating_point() and not torch.equal(epoch_files[0][name], epoch_files[1][name]):
            assert not torch.equal(evaluated[-1][name], tensor)


def test_a_run_dir_scores_on_dev_what_its_metrics_say_and_drops_the_epoch_weights(tmp_path):
    import json
    from pathlib import Path

    from seqkit import api

    data = Path(__file__).parent / "data" / "my_texts"
    settings = ["train.threads=1", "train.epochs=3", "train.patience=null", "train.refit=false",
                "train.average_last=2"]
    run = api.train("sentiment", "my_texts", data, tmp_path / "run", settings, show_progress=False)
    dev = json.loads((run / "metrics.json").read_text())["dev"]
    # Whether or not the average was kept, the saved weights are the ones the dev figures describe.
    assert dev.get("averaged_epochs") in (None, [2, 3])
    assert api.evaluate(run, "valid", data)["accuracy"] == pytest.approx(dev["accuracy"])
    assert not (run / "checkpoints").exists()
