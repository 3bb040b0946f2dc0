"""train.threads: a number, torch's default (null), or auto, which takes the cores the load average leaves idle."""

import pytest

from seqkit.api import load_recipe
from seqkit.errors import ConfigError
from seqkit.runtime import threads


def test_a_number_or_null_passes_through_without_a_note():
    assert threads.training_threads(3) == (3, None)
    assert threads.training_threads(None) == (None, None)


CASES = [(2, 0.1, 2), (2, 0.6, 1), (2, 1.2, 1), (2, 3.7, 1), (16, 4.4, 12)]  # cores, 1-minute load, threads


@pytest.mark.parametrize(("cores", "load", "expected"), CASES)
def test_auto_takes_the_idle_cores_and_at_least_one(monkeypatch, cores, load, expected):
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, 0.0, 0.0))
    chosen, note = threads.training_threads("auto")
    assert chosen == expected
    assert f"{expected} of {cores} cores" in note and f"{load:.1f}" in note


def test_auto_without_a_load_average_takes_every_core(monkeypatch):
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.delattr(threads.os, "getloadavg")
    assert threads.training_threads("auto")[0] == 4


def test_the_recipe_accepts_auto_and_refuses_other_words_and_zero():
    assert load_recipe("sentiment", "imdb", ["train.threads=auto"]).train.threads == "auto"
    with pytest.raises(ConfigError, match="train.threads"):
        load_recipe("sentiment", "imdb", ["train.threads=many"])
    with pytest.raises(ConfigError, match="train.threads"):
        load_recipe("sentiment", "imdb", ["train.threads=0"])
