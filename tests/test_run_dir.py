"""Loading a run dir checks everything and never unpickles: each kind of damage gets its own message."""

import pickle
import shutil

import pytest
import torch
from typer.testing import CliRunner

from seqkit import Tagger
from seqkit.cli import app
from seqkit.errors import InputError, RunDirError
from seqkit.run_dirs.checkpoint import load_tensors, save_tensors

from conftest import TINY_ATIS, write_recipe


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rundir")
    result = CliRunner().invoke(
        app,
        ["train", "slot-filling", "--recipe", str(write_recipe(folder)), "--data", str(TINY_ATIS),
         "--out", str(folder / "run"), "--set", "train.epochs=1"],
    )
    assert result.exit_code == 0, result.output
    return folder / "run"


@pytest.fixture
def copy(trained, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(trained, target)
    return target


def test_a_copy_loads_and_tags(copy):
    (result,) = Tagger.load(copy).tag(["flights to rome"])
    assert len(result.tags) == 3


def test_truncated_weights(copy):
    path = copy / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(RunDirError, match="model.safetensors: not a valid safetensors file"):
        Tagger.load(copy)


def test_pickle_in_place_of_weights_is_not_unpickled(copy, tmp_path):
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (marker.touch, ())

    (copy / "model.safetensors").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(RunDirError, match="not a valid safetensors file"):
        Tagger.load(copy)
    assert not marker.exists()


def test_missing_vocabulary(copy):
    (copy / "vocab" / "tags.json").unlink()
    with pytest.raises(RunDirError, match="vocabulary 'tags' is missing"):
        Tagger.load(copy)


def test_wrong_shapes(copy):
    tensors = load_tensors(copy / "model.safetensors")
    name = "head.slot_output.weight"
    tensors[name] = torch.zeros(3, 3)
    save_tensors(copy / "model.safetensors", tensors)
    with pytest.raises(RunDirError, match=r"'head.slot_output.weight' has shape \(3, 3\), the config makes"):
        Tagger.load(copy)


def test_tampered_config(copy):
    (copy / "config.yaml").write_text("task: slot-filling\nrnn: {hidden_size: many}\n")
    with pytest.raises(RunDirError, match="config.yaml: rnn.hidden_size: expected an integer"):
        Tagger.load(copy)


def test_config_that_runs_code_is_not_loaded(copy):
    (copy / "config.yaml").write_text("task: !!python/object/apply:os.system ['touch /tmp/seqkit-pwned']\n")
    with pytest.raises(Exception, match="config.yaml"):
        Tagger.load(copy)


def test_empty_text_is_refused_with_its_index(copy):
    with pytest.raises(InputError, match=r"texts\[1\]: empty text"):
        Tagger.load(copy).tag(["flights", "  "])
