"""Refit (`train.refit`): once dev has chosen the epoch, a new model from the same seed trains on train and dev
together for that many epochs and replaces the chosen one; the dev figures stay the chosen model's."""

import json
from pathlib import Path

import pytest
from test_training import make_trainer

from seqkit import api
from seqkit.errors import ConfigError, TrainingInterrupted
from seqkit.run_dirs.checkpoint import load_tensors
from seqkit.tasks import get_task
from seqkit.training import refit

DATA = Path(__file__).parent / "data" / "my_texts"
SETTINGS = ["train.threads=1", "train.epochs=4", "train.patience=null"]


def train(tmp_path, name, *extra):
    return api.train("sentiment", "my_texts", DATA, tmp_path / name, [*SETTINGS, *extra], show_progress=False)


def test_the_refit_replaces_the_chosen_weights_and_keeps_its_dev_figures(tmp_path):
    plain, refitted = train(tmp_path, "plain", "train.refit=false"), train(tmp_path, "refit", "train.refit=true")
    plain_dev = json.loads((plain / "metrics.json").read_text())["dev"]
    dev = json.loads((refitted / "metrics.json").read_text())["dev"]
    # The dev figures are those of the model that chose the epoch (its vocabulary already holds dev's words).
    log = [json.loads(line) for line in (refitted / "log.jsonl").read_text().splitlines()]
    assert dev["accuracy"] == max(line["dev_accuracy"] for line in log) == log[dev["best_epoch"] - 1]["dev_accuracy"]
    assert plain_dev["best_epoch"] >= 1 and "refit" not in plain_dev
    recipe = api.load_recipe("sentiment", "my_texts", [*SETTINGS, "train.refit=true"])
    splits = get_task("sentiment").load_splits(recipe, DATA, ("train", "valid"))
    assert dev["refit"]["epochs"] == refit.refit_epochs(log, "accuracy")
    assert dev["refit"]["examples"] == len(splits["train"]) + len(splits["valid"]) == 40
    # The weights are another model's: it learnt from dev as well.
    chosen, final = load_tensors(plain / "model.safetensors"), load_tensors(refitted / "model.safetensors")
    assert chosen.keys() == final.keys()
    assert any(not (chosen[name] == final[name]).all() for name in chosen if chosen[name].shape == final[name].shape)
    assert not (refitted / "checkpoints").exists()
    # The vocabulary holds the words of both splits, so dev's words have vectors of their own.
    words = set(json.loads((refitted / "vocab" / "words.json").read_text())["tokens"])
    dev_words = {word for example in splits["valid"] for word in example.text.lower().split() if word.isalpha()}
    assert dev_words <= words
    assert api.evaluate(refitted, "test", DATA)["documents"] == 6


def test_refit_trains_the_chosen_epochs_with_the_schedule_of_the_whole_run(tmp_path):
    trainer = make_trainer(tmp_path, tmp_path / "run", epochs=5, schedule="linear", learning_rate=0.01)
    trainer.evaluate = None
    trainer.last_epoch = 2
    trainer.checkpoints = False
    state = trainer.fit()
    assert not (tmp_path / "run" / "checkpoints").exists()  # a refit starts again from its beginning
    assert state.epoch == 2 and state.best_epoch == 2
    assert [record["epoch"] for record in state.history] == [1, 2]
    assert not any(name.startswith("dev_") for name in state.history[-1])
    # Two of five planned epochs: the rate has fallen by two fifths, not to zero.
    steps = state.step
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * (1 - (steps - 1) / (2.5 * steps)))
    saved = load_tensors(tmp_path / "run" / "model.safetensors")
    for name, tensor in trainer.model.state_dict().items():
        assert (saved[name] == tensor).all()  # without dev, the last epoch's weights are kept


def test_an_interrupted_refit_keeps_the_chosen_model_and_resume_refits_again(tmp_path, monkeypatch):
    original = refit.refit_on_train_and_dev

    def interrupted(*arguments, **keywords):
        raise TrainingInterrupted("stopped during the refit")

    monkeypatch.setattr(refit, "refit_on_train_and_dev", interrupted)
    with pytest.raises(TrainingInterrupted):
        train(tmp_path, "run", "train.refit=true")
    run = tmp_path / "run"
    chosen = load_tensors(run / "model.safetensors")
    assert not (run / "metrics.json").exists()  # the run's figures are written once the refit is done
    monkeypatch.setattr(refit, "refit_on_train_and_dev", original)
    api.train(None, out=run, resume=True, show_progress=False)
    dev = json.loads((run / "metrics.json").read_text())["dev"]
    assert dev["refit"]["epochs"] >= dev["best_epoch"]
    assert any(not (chosen[name] == tensor).all() for name, tensor in load_tensors(run / "model.safetensors").items())


def test_the_refit_takes_the_last_of_the_epochs_tied_at_the_best_dev_score():
    history = [{"dev_accuracy": score} for score in (80.0, 90.0, 85.0, 90.0, 88.0)]
    assert refit.refit_epochs(history, "accuracy") == 4
    assert refit.refit_epochs(history[:3], "accuracy") == 2


def test_refit_refuses_averaging_in_one_line():
    with pytest.raises(ConfigError, match=r"^train.refit: cannot be combined with train.average_last"):
        api.load_recipe("sentiment", "my_texts", ["train.refit=true", "train.average_last=2"])


def test_a_task_whose_training_reads_dev_refuses_the_refit_before_writing(tmp_path):
    from conftest import write_tiny_task1

    data = write_tiny_task1(tmp_path / "babi")
    settings = ["data.task=1", "train.refit=true"]
    with pytest.raises(ConfigError, match=r"^train.refit: the memory network's linear start is ended by its"):
        api.train("babi", "babi_1k", data, tmp_path / "run", settings, show_progress=False)
    assert not (tmp_path / "run").exists()
