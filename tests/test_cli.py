"""The command line, driven through typer's CliRunner (and one real subprocess for exit codes)."""

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from seqkit import Tagger
from seqkit.cli import app

from conftest import TINY_ATIS

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    from conftest import write_recipe

    recipe = write_recipe(folder)
    result = runner.invoke(
        app, ["train", "slot-filling", "--recipe", str(recipe), "--data", str(TINY_ATIS), "--out", str(folder / "run")]
    )
    assert result.exit_code == 0, result.output
    return folder / "run"


def test_train_writes_a_complete_run_dir(run_dir):
    for name in ("config.yaml", "model.safetensors", "vocab/words.json", "vocab/tags.json", "vocab/intents.json",
                 "metrics.json", "run.json", "log.jsonl"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / ".lock").exists()
    assert not (run_dir / "checkpoints").exists()  # only --resume reads it; train.keep_checkpoints keeps it
    info = json.loads((run_dir / "run.json").read_text())
    assert info["seqkit_version"] and "command_line" in info


def test_tag_prints_tokens_with_slots_and_intent(run_dir):
    result = runner.invoke(app, ["tag", str(run_dir), "Flights from Paris to Rome"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith("Flights/")  # the words as written; the model reads them lowercased
    assert "Paris/" in line and "\t" in line


def test_tag_json_matches_the_python_api(run_dir):
    lines = "flights from paris to rome\ncheapest fare to oslo\n"
    result = runner.invoke(app, ["tag", str(run_dir), "--json"], input=lines)
    assert result.exit_code == 0, result.output
    printed = [json.loads(line) for line in result.output.splitlines()]
    api = [r.to_json() for r in Tagger.load(run_dir).tag(["flights from paris to rome", "cheapest fare to oslo"])]
    assert printed == api


def test_tag_gives_an_empty_stdin_line_an_empty_line_and_goes_on(run_dir):
    result = runner.invoke(app, ["tag", str(run_dir)], input="flights to rome\n   \nfares to oslo\n")
    assert result.exit_code == 0
    lines = result.output.split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[3] == ""  # one line out per line in
    assert "rome/" in lines[0] and "oslo/" in lines[2]
    # The console script too (it runs click outside standalone mode).
    command = [sys.executable, "-m", "seqkit", "tag", str(run_dir)]
    finished = subprocess.run(command, input="flights to rome\n\n", capture_output=True, text=True)
    assert finished.returncode == 0 and finished.stderr == ""
    assert finished.stdout.split("\n")[1:] == ["", ""] and "rome/" in finished.stdout


def test_evaluate_scores_a_split_and_records_it(run_dir):
    result = runner.invoke(app, ["evaluate", str(run_dir), "--split", "test", "--data", str(TINY_ATIS)])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert 0.0 <= scores["slot_f1"] <= 100.0 and scores["sentences"] == 8
    assert "test" in json.loads((run_dir / "metrics.json").read_text())


def test_training_into_a_finished_run_dir_needs_overwrite(run_dir):
    result = runner.invoke(app, ["train", "slot-filling", "--out", str(run_dir), "--data", str(TINY_ATIS)])
    assert result.exit_code != 0
    assert "already holds a run" in str(result.exception)


def test_list_and_validate():
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0 and "slot-filling" in listed.output and "word_hash" in listed.output
    valid = runner.invoke(app, ["validate", "atis"])
    assert valid.exit_code == 0 and "task: slot-filling" in valid.output


def test_errors_are_one_line_and_non_zero(tmp_path):
    command = [sys.executable, "-m", "seqkit", "validate", "atis", "--set", "rnn.hidden_size=big"]
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 1
    assert finished.stderr.strip() == "error: rnn.hidden_size: expected an integer, got str 'big'"
    command = [sys.executable, "-m", "seqkit", "tag", str(tmp_path / "nope"), "x"]
    missing = subprocess.run(command, capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no such run dir" in missing.stderr
