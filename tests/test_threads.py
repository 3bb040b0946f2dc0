"""train.threads: a number, torch's default (null), or auto, which takes the cores other work leaves idle."""

import pytest

from seqkit.api import load_recipe
from seqkit.errors import ConfigError
from seqkit.runtime import threads


def test_a_number_or_null_passes_through_without_a_note():
    assert threads.training_threads(3) == (3, None)
    assert threads.training_threads(None) == (None, None)


def test_the_running_count_is_read_from_a_loadavg_line():
    assert threads.runnable_now("0.98 1.07 1.04 3/345 12345\n") == 3


# cores, the running count (this process among them), the threads auto takes
CASES = [(2, "1/108", 2), (2, "2/108", 1), (2, "3/345", 1), (2, "9/345", 1), (16, "5/900", 12)]


@pytest.mark.parametrize(("cores", "running", "expected"), CASES)
def test_auto_takes_the_cores_the_other_runnable_work_leaves_and_at_least_one(
    tmp_path, monkeypatch, cores, running, expected
):
    load_file = tmp_path / "loadavg"
    load_file.write_text(f"3.50 3.10 2.90 {running} 4242\n")  # a high load average, which auto does not read here
    monkeypatch.setattr(threads, "LOAD_FILE", load_file)
    monkeypatch.setattr(threads, "SAMPLE_SECONDS", 0.0)
    monkeypatch.setattr(threads, "available_cores", lambda: cores)
    chosen, note = threads.training_threads("auto")
    assert chosen == expected
    assert note.startswith(f"train.threads auto: {expected} of {cores} cores")


def test_without_proc_the_load_average_decides(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "LOAD_FILE", tmp_path / "absent")
    monkeypatch.setattr(threads, "available_cores", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.2, 0.0, 0.0))
    chosen, note = threads.training_threads("auto")
    assert chosen == 1 and "load average 1.2" in note


def test_without_any_load_figure_every_core_is_taken(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "LOAD_FILE", tmp_path / "absent")
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.delattr(threads.os, "getloadavg")
    assert threads.training_threads("auto")[0] == 4


def test_the_recipe_accepts_auto_and_refuses_other_words_and_zero():
    assert load_recipe("sentiment", "imdb", ["train.threads=auto"]).train.threads == "auto"
    with pytest.raises(ConfigError, match="train.threads"):
        load_recipe("sentiment", "imdb", ["train.threads=many"])
    with pytest.raises(ConfigError, match="train.threads"):
        load_recipe("sentiment", "imdb", ["train.threads=0"])
