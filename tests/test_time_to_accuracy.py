"""benchmarks.time_to_accuracy: targets read from the committed records, and the runs they judge."""

import json

import pytest

from benchmarks import time_to_accuracy
from benchmarks.time_to_accuracy import GOALS, Goal, dev_target


def test_the_target_is_the_records_best_dev_figure_less_the_margin(tmp_path, monkeypatch):
    record = tmp_path / "sentiment" / "toy"
    record.mkdir(parents=True)
    lines = [
        {"epoch": 1, "dev_accuracy": 80.0},
        {"epoch": 2, "dev_accuracy": 84.25},
        {"epoch": 3, "dev_accuracy": 83.0},
    ]
    (record / "log.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    monkeypatch.setattr(time_to_accuracy, "RESULTS", tmp_path)
    goal = Goal("toy", "sentiment", "sentiment/toy", "accuracy", 60, {"accuracy": 80.0})
    assert dev_target(goal) == 84.25 - time_to_accuracy.MARGIN
    with pytest.raises(SystemExit, match="no record"):
        dev_target(Goal("gone", "sentiment", "sentiment/gone", "accuracy", 60, {}))
    # A goal short of the record's figure names its own target, whatever the record reached.
    assert dev_target(Goal("toy", "sentiment", "sentiment/toy", "accuracy", 60, {}, fixed_target=81.5)) == 81.5


@pytest.mark.parametrize(
    "name", [name for name, goal in GOALS.items() if (time_to_accuracy.RESULTS / goal.record).is_dir()]
)
def test_every_committed_record_gives_a_target_on_its_selection_metric(name):
    from seqkit.tasks import get_task

    goal = GOALS[name]
    assert get_task(goal.task).metric == goal.metric
    assert dev_target(goal) > 0


def test_an_unknown_recipe_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as raised:
        time_to_accuracy.main(["--recipes", "imdb,nonsense"])
    assert raised.value.code == 2 and "unknown recipe 'nonsense'" in capsys.readouterr().err
