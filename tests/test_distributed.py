"""Two CPU processes with gloo (torchrun) follow the same loss curve as one process with the same global batch."""

import json
import subprocess
import sys

import pytest

from seqkit import Tagger

from conftest import write_recipe

pytestmark = pytest.mark.slow


def real_slice(source, target, counts):
    """The first lines of each ATIS split file (a small real slice, written to a temporary folder)."""
    for split, count in counts.items():
        (target / split).mkdir(parents=True)
        for name in ("seq.in", "seq.out", "label"):
            lines = (source / split / name).read_text().splitlines()[:count]
            (target / split / name).write_text("\n".join(lines) + "\n")
    return target


def train(recipe, data, out, *extra):
    command = [sys.executable, "-m", "seqkit", "train", "slot-filling", "--recipe", str(recipe), "--data", str(data)]
    finished = subprocess.run([*command, "--out", str(out), *extra], capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_two_processes_match_one(tmp_path):
    import os
    from pathlib import Path

    data = real_slice(Path(os.environ["SEQKIT_DATA_DIR"]) / "atis", tmp_path / "atis", {"train": 203, "valid": 60})
    # No dropout, so that the only difference between the runs is how the global batch is split.
    recipe = write_recipe(
        tmp_path,
        encoder={"word_dropout": 0.0, "dropout": 0.0},
        head={"dropout": 0.0},
        train={"epochs": 2, "batch_size": 8, "learning_rate": 0.005},
    )
    single = train(recipe, data, tmp_path / "single")
    parallel = train(recipe, data, tmp_path / "parallel", "--nproc", "2")
    assert len(single) == len(parallel) == 2
    for one, two in zip(single, parallel, strict=True):
        assert two["train_loss"] == pytest.approx(one["train_loss"], rel=1e-4)
        assert two["dev_slot_f1"] == pytest.approx(one["dev_slot_f1"], abs=0.5)
    (result,) = Tagger.load(tmp_path / "parallel").tag(["flights from boston to denver"])
    assert len(result.tags) == 5 and result.intent
