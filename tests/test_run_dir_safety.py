"""Run dirs are never half-written, and loading refuses a bad one in one line.

A replacing run (--overwrite) is built beside the old one and swapped in only when it finishes; a start that
fails leaves nothing behind; names in a run dir's config cannot steer reads outside the data folder; weights,
vocabularies and resumed training data that a run could not have written are refused, naming what is wrong.
"""

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from seqkit import Tagger, api
from seqkit.errors import ConfigError, InputError, RunDirError, TrainingInterrupted
from seqkit.run_dirs.checkpoint import load_tensors, read_json, save_tensors
from seqkit.run_dirs.run_dir import write_run_start
from seqkit.tasks import get_task
from seqkit.training.trainer import Trainer

from conftest import TINY_ATIS, write_recipe

SENTENCES = ["flights from paris to rome", "cheapest fare to oslo"]


def train(folder: Path, out: Path, *overrides: str, overwrite: bool = False, resume: bool = False, data=TINY_ATIS):
    recipe = None if resume else write_recipe(folder, train={"epochs": 1})
    return api.train(
        None if resume else "slot-filling",
        recipe,
        data_dir=data,
        out=out,
        overrides=list(overrides),
        overwrite=overwrite,
        resume=resume,
        show_progress=False,
    )


def tags_of(run_dir: Path) -> list[dict]:
    """The loaded model's predictions (tags, intent and its probability) for SENTENCES."""
    tagger = Tagger.load(run_dir)
    token_lists = [sentence.split() for sentence in SENTENCES]
    return tagger.task.predict(tagger.model, tagger.recipe, tagger.vocabularies, token_lists)


def snapshot(run_dir: Path) -> dict[str, bytes]:
    return {str(path.relative_to(run_dir)): path.read_bytes() for path in sorted(run_dir.rglob("*")) if path.is_file()}


def fail_in_epoch(monkeypatch, epoch: int, interrupt: bool = False) -> None:
    """Make training fail (an error, or Ctrl-C after one step) when it reaches `epoch` (1-based)."""
    original = Trainer._train_epoch

    def train_epoch(self, total_steps):
        if self.state.epoch + 1 == epoch:
            if not interrupt:
                raise RuntimeError("the machine fell over")
            self.stop.requested = True  # what the SIGINT handler sets: stop after this step
        return original(self, total_steps)

    monkeypatch.setattr(Trainer, "_train_epoch", train_epoch)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    return train(folder, folder / "run")


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


# ---- replacing a run ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("interrupt", [False, True])
def test_a_failed_overwrite_leaves_the_old_run_as_it_was(run_copy, tmp_path, monkeypatch, interrupt):
    before, tags = snapshot(run_copy), tags_of(run_copy)
    fail_in_epoch(monkeypatch, 2, interrupt)
    expected = TrainingInterrupted if interrupt else RuntimeError
    with pytest.raises(expected) as raised:
        train(tmp_path, run_copy, "rnn.hidden_size=32", "head.intent=false", "train.epochs=2", overwrite=True)
    if interrupt:
        assert f"{run_copy} keeps the run it held" in str(raised.value)
    monkeypatch.undo()
    assert snapshot(run_copy) == before
    assert tags_of(run_copy) == tags
    assert sorted(path.name for path in tmp_path.iterdir()) == ["recipe.yaml", "run"]  # no staging folder left


def test_a_finished_overwrite_replaces_the_whole_run(run_copy, tmp_path):
    assert (run_copy / "vocab" / "intents.json").is_file()
    train(tmp_path, run_copy, "rnn.hidden_size=32", "head.intent=false", overwrite=True)
    assert "hidden_size: 32" in (run_copy / "config.yaml").read_text()
    assert not (run_copy / "vocab" / "intents.json").exists()  # nothing of the old run is left beside the new
    assert not (run_copy / ".lock").exists()
    assert all("intent" not in result for result in tags_of(run_copy))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["recipe.yaml", "run"]


def test_overwriting_a_busy_run_dir_is_refused_and_changes_nothing(run_copy, tmp_path):
    before = snapshot(run_copy)
    (run_copy / ".lock").write_text(str(os.getpid()))  # a live training run holds it
    with pytest.raises(RunDirError, match="in use by another training run"):
        train(tmp_path, run_copy, overwrite=True)
    (run_copy / ".lock").unlink()
    assert snapshot(run_copy) == before


# ---- a start that fails ---------------------------------------------------------------------------------------
def test_a_start_that_fails_in_its_first_epoch_leaves_nothing_and_can_be_run_again(tmp_path, monkeypatch):
    out = tmp_path / "run"
    fail_in_epoch(monkeypatch, 1)
    with pytest.raises(RuntimeError):
        train(tmp_path, out)
    assert not out.exists()
    monkeypatch.undo()
    train(tmp_path, out)
    assert tags_of(out)


def test_a_bad_cell_name_leaves_nothing_behind(tmp_path):
    out = tmp_path / "run"
    with pytest.raises((ValueError, ConfigError), match="nope"):
        train(tmp_path, out, "rnn.cell=nope")
    assert not out.exists()
    train(tmp_path, out)  # the retry is not refused as "already holds a run"


def test_a_failed_start_removes_only_its_own_files(tmp_path, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    fail_in_epoch(monkeypatch, 1)
    with pytest.raises(RuntimeError):
        train(tmp_path, out)
    assert sorted(path.name for path in out.iterdir()) == ["notes.txt"]


def test_a_start_killed_before_its_first_checkpoint_does_not_block_a_new_run(tmp_path):
    out = tmp_path / "run"
    recipe = api.load_recipe(None, write_recipe(tmp_path, train={"epochs": 1}))
    task = get_task("slot-filling")
    train_split = task.load_splits(recipe, TINY_ATIS, ("train",))["train"]
    vocabularies = task.build_vocabularies(recipe, train_split)
    vocabularies["stale"] = vocabularies["tags"]
    write_run_start(out, recipe, vocabularies)  # all that a start writes before the first epoch ends
    train(tmp_path, out)
    assert not (out / "vocab" / "stale.json").exists()
    assert tags_of(out)


def test_a_run_with_weights_is_still_not_replaced_without_overwrite(run_copy, tmp_path):
    with pytest.raises(RunDirError, match="already holds a run"):
        train(tmp_path, run_copy)


# ---- checkpoints of a finished run ----------------------------------------------------------------------------
def test_a_finished_run_drops_its_checkpoint_and_resuming_it_changes_nothing(run_copy, tmp_path, capsys):
    assert not (run_copy / "checkpoints").exists()
    assert "finished" in read_json(run_copy / "run.json")
    before = snapshot(run_copy)
    assert train(tmp_path, run_copy, resume=True) == run_copy
    assert "nothing to resume" in capsys.readouterr().err
    assert snapshot(run_copy) == before


def test_keep_checkpoints_keeps_it(tmp_path):
    out = train(tmp_path, tmp_path / "run", "train.keep_checkpoints=true")
    assert (out / "checkpoints" / "last" / "trainer.json").is_file()
    metrics = (out / "metrics.json").read_text()
    train(tmp_path, out, resume=True)  # a finished run with its checkpoint: resuming trains no further
    assert json.loads((out / "metrics.json").read_text()) == json.loads(metrics)


def test_an_interrupted_run_keeps_its_checkpoint_until_it_finishes(tmp_path, monkeypatch):
    out = tmp_path / "run"
    fail_in_epoch(monkeypatch, 2, interrupt=True)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        train(tmp_path, out, "train.epochs=3")
    assert (out / "checkpoints" / "last" / "trainer.json").is_file()
    monkeypatch.undo()
    train(tmp_path, out, resume=True)
    assert not (out / "checkpoints").exists()
    assert read_json(out / "metrics.json")["dev"]["epochs"] == 3


# ---- names in a run dir's config ------------------------------------------------------------------------------
def test_a_split_name_that_leaves_the_data_folder_is_refused(run_copy, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(TINY_ATIS, data)
    shutil.copytree(TINY_ATIS / "test", tmp_path / "private")  # a folder beside the data a stranger wants read
    config = run_copy / "config.yaml"
    original = config.read_text()
    for name in ("../private", str(tmp_path / "private")):
        config.write_text(original.replace("test: test", f"test: {name}"))
        with pytest.raises(ConfigError, match=r"^data\.test: .* must be a path inside the data folder"):
            api.evaluate(run_copy, "test", data_dir=data)


@pytest.mark.parametrize(
    ("task", "override", "key"),
    [
        ("slot-filling", "data.test=/etc", "data.test"),
        ("sentiment", "data.test=../../texts.tsv", "data.test"),
        ("translation", "data.file_pattern=../{split}.{lang}", "data.file_pattern"),
        ("translation", "data.src_lang=../../de", "data.src_lang"),
        ("title-generation", "data.test_target=a/../../b.txt", "data.test_target"),
    ],
)
def test_every_task_refuses_split_files_outside_the_data_folder(tmp_path, task, override, key):
    recipe = api.load_recipe(task, None, [override])
    with pytest.raises(ConfigError, match=rf"^{key}: "):
        get_task(task).load_splits(recipe, tmp_path, ("test",))


# ---- files a run could not have written -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda tensor: tensor.fill_(float("nan")), "holds NaN values"),
        (lambda tensor: tensor.fill_(float("inf")), "holds infinite values"),
        (lambda tensor: tensor.to(torch.int64), "has dtype int64, the model needs float32"),
    ],
)
def test_weights_a_run_could_not_have_written_are_refused(run_copy, damage, message):
    path = run_copy / "model.safetensors"
    tensors = load_tensors(path)
    name = "head.slot_output.weight"
    tensors[name] = damage(tensors[name].clone())
    save_tensors(path, tensors)
    with pytest.raises(RunDirError, match=rf"model\.safetensors: tensor '{name}' {message}"):
        Tagger.load(run_copy)


def test_a_deeply_nested_vocabulary_is_refused_in_one_line(run_copy):
    (run_copy / "vocab" / "tags.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RunDirError, match=r"tags\.json: .*nested too deeply") as raised:
        Tagger.load(run_copy)
    assert "\n" not in str(raised.value)


def test_deeply_nested_trainer_state_is_refused(tmp_path):
    (tmp_path / "trainer.json").write_text('{"a": ' * 100_000 + "1" + "}" * 100_000)
    with pytest.raises(RunDirError, match=r"trainer\.json: JSON nested too deeply"):
        read_json(tmp_path / "trainer.json")


# ---- resuming on changed data ---------------------------------------------------------------------------------
def test_resuming_on_data_with_an_unseen_tag_names_the_sentence_and_the_tag(tmp_path):
    out = train(tmp_path, tmp_path / "run", "train.keep_checkpoints=true")
    data = tmp_path / "changed"
    shutil.copytree(TINY_ATIS, data)
    tags = (data / "train" / "seq.out").read_text().splitlines()
    tags[2] = tags[2].replace("B-to_city", "B-to_planet")
    (data / "train" / "seq.out").write_text("\n".join(tags) + "\n")
    with pytest.raises(InputError, match=r"data\.train \(train\): sentence 3: tag 'B-to_planet' is not one of"):
        train(tmp_path, out, resume=True, data=data)
