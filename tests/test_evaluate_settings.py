"""`seqkit evaluate --set head.length_penalty=...`: search settings vary per evaluation, nothing else does, and
the recipe's own scores are kept beside the overridden ones."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError


def test_search_settings_are_scored_apart(tiny_translation_run):
    data = tiny_translation_run.parent
    plain = api.evaluate(tiny_translation_run, "valid", data)
    greedy = api.evaluate(tiny_translation_run, "valid", data, decoding=["head.beam=1"])
    assert plain["beam"] == 2 and greedy["beam"] == 1  # the run's recipe says beam 2 (TINY_SEQ2SEQ)
    metrics = json.loads((tiny_translation_run / "metrics.json").read_text())
    assert metrics["valid"]["beam"] == 2
    assert metrics["valid head.beam=1"]["beam"] == 1


def test_cli_passes_settings_and_refuses_other_keys(tiny_translation_run):
    runner = CliRunner()
    data = str(tiny_translation_run.parent)
    result = runner.invoke(app, ["evaluate", str(tiny_translation_run), "--split", "valid", "--data", data, "--json",
                                 "--set", "head.length_penalty=2.0", "--set", "head.beam=3"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["beam"] == 3
    with pytest.raises(ConfigError, match="train.epochs: evaluate can only change search settings"):
        api.evaluate(tiny_translation_run, "valid", data, decoding=["train.epochs=3"])


def test_a_task_without_search_has_no_settings(tiny_tagger_run):
    from conftest import TINY_ATIS

    with pytest.raises(ConfigError, match="none for this task"):
        api.evaluate(tiny_tagger_run, "valid", TINY_ATIS, decoding=["head.beam=2"])
