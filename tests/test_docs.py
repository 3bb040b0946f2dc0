"""The docs: the site builds strictly, the recipe reference follows the config classes, the README stays a short
user's guide, and every results table agrees with the run records it is rendered from."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks import recipe_reference, report

ROOT = Path(__file__).parent.parent


def test_mkdocs_builds_the_site_strictly(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    reference = (site / "recipes" / "index.html").read_text()
    assert "data.max_train_pairs" in reference and "train.clip_norm" in reference
    assert "seqkit.predict.tagger.Tagger" in (site / "api" / "index.html").read_text()  # mkdocstrings rendered the API


def test_the_committed_recipe_reference_is_current():
    assert recipe_reference.main(["--check"]) == 0, "run: python -m benchmarks.recipe_reference --write"


def test_the_recipe_reference_lists_every_key_with_type_default_and_comment():
    page = recipe_reference.render()
    row = next(line for line in page.splitlines() if line.startswith("| `data.max_train_pairs` |"))
    # From generation.PairLimits: `max_train_pairs: int | None = None` under "# Keep only the first N pairs ...".
    assert row.startswith("| `data.max_train_pairs` | int or null | `null` |")
    assert "Keep only the first N pairs of a split" in row
    # A comment block also describes a following field that it names ("... then projected to hash_size").
    hash_size = next(line for line in page.splitlines() if line.startswith("| `encoder.hash_size` |"))
    assert "projected to hash_size" in hash_size
    # A following field that the block does not name gets no borrowed meaning (word_dropout's is not dropout's).
    dropout = next(line for line in page.splitlines() if line.startswith("| `encoder.dropout` |"))
    assert "<unk>" not in dropout and "&lt;unk&gt;" not in dropout
    for name in ("epochs", "learning_rate", "schedule", "max_steps"):
        assert f"| `train.{name}` |" in page


def test_the_readme_is_a_short_users_guide():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    assert not re.search(r"\bissue \d+", readme, flags=re.IGNORECASE)
    assert not re.search(r"\b(commit|code of) [0-9a-f]{7}\b", readme)
    assert "load average" not in readme
    # A path outside the repository only as the set-up commands' data folder.
    outside = [line for line in readme.splitlines() if "../" in line]
    assert all(line.startswith("    pip install") and "../shared/data" in line for line in outside), outside
    assert "python -m pytest -q -m browser" in readme
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link


def test_ci_runs_the_browser_tests_the_readme_deselects():
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "python -m pytest -q -m browser" in ci_lines


def test_every_results_table_agrees_with_its_records():
    assert report.main(["--check"]) == 0, "run: python -m benchmarks.report --write"


def write_record(results: Path, name: str, seed: int, test: dict, dev: dict | None = None) -> Path:
    """A record as a run dir would leave it (metrics as `seqkit evaluate` writes them), weights left out."""
    folder = results / name
    folder.mkdir(parents=True)
    task = name.split("/")[0]
    (folder / "config.yaml").write_text(yaml.safe_dump({"task": task, "seed": seed}))
    dev = dev or {"slot_f1": 97.0, "best_epoch": 2, "epochs": 3}
    (folder / "metrics.json").write_text(json.dumps({"dev": dev, "test": test}))
    log = [{"epoch": epoch, "seconds": 10.0, "peak_rss_mib": 500.0 + epoch} for epoch in (1, 2, 3)]
    (folder / "log.jsonl").write_text("".join(json.dumps(entry) + "\n" for entry in log))
    (folder / "run.json").write_text(json.dumps({"seqkit_version": "0.1.0", "task": task, "command_line": "x"}))
    return folder


TABLES = {
    "tables": {
        "atis": {
            "kind": "summary",
            "rows": [
                {
                    "task": "slot filling",
                    "dataset": "ATIS",
                    "records": ["slot-filling/a1", "slot-filling/a2"],
                    "figures": [{"metric": "slot_f1", "label": "slot F1"}],
                    "peer": "95.98",
                },
                {
                    "task": "sentiment",
                    "dataset": "IMDB",
                    "records": ["sentiment/imdb"],
                    "figures": [{"metric": "accuracy", "label": "accuracy"}],
                    "peer": "90.56",
                },
            ],
        },
        "atis-runs": {
            "kind": "runs",
            "records": ["slot-filling/a1", "slot-filling/a2"],
            "figures": [{"metric": "slot_f1", "label": "dev F1", "split": "dev"}, {"metric": "slot_f1", "label": "F1"}],
        },
    }
}


@pytest.fixture
def tiny_results(tmp_path):
    """Two slot-filling records, a tables file, and a document with both tables marked (empty)."""
    results = tmp_path / "results"
    write_record(results, "slot-filling/a1", seed=1, test={"slot_f1": 95.0})
    write_record(results, "slot-filling/a2", seed=2, test={"slot_f1": 96.0})
    (results / "tables.yaml").write_text(yaml.safe_dump(TABLES))
    document = tmp_path / "page.md"
    document.write_text(
        "# Results\n\n<!-- results:begin atis -->\n<!-- results:end -->\n\ntext\n\n"
        "<!-- results:begin atis-runs -->\nstale\n<!-- results:end -->\n"
    )
    return results, document


def test_report_renders_the_figures_of_the_records(tiny_results):
    results, document = tiny_results
    assert report.main(["--check", "--results", str(results), str(document)]) == 1
    assert report.main(["--write", "--results", str(results), str(document)]) == 0
    text = document.read_text()
    # The mean of 95.0 and 96.0 with their range; the sentiment record has not landed, so no figure is made up.
    assert "| slot filling | ATIS | slot F1 **95.50** (95.00-96.00) |" in text
    assert "| sentiment | IMDB | no record yet |" in text
    # One row per record: seed, best epoch of epochs, dev and test figures, seconds in epochs, peak memory.
    assert "| `slot-filling/a2` | 2 | 2 of 3 | 97.00 | 96.00 | 30 | 503 |" in text
    assert "stale" not in text and text.startswith("# Results\n") and "\ntext\n" in text
    assert report.main(["--check", "--results", str(results), str(document)]) == 0


def test_report_check_fails_when_a_record_changes(tiny_results):
    results, document = tiny_results
    report.main(["--write", "--results", str(results), str(document)])
    metrics = results / "slot-filling" / "a1" / "metrics.json"
    metrics.write_text(json.dumps({"dev": {"slot_f1": 97.0}, "test": {"slot_f1": 94.0}}))
    assert report.main(["--check", "--results", str(results), str(document)]) == 1
    # A record landing for a row that had none also makes the table stale.
    report.main(["--write", "--results", str(results), str(document)])
    write_record(results, "sentiment/imdb", seed=13, test={"accuracy": 90.37}, dev={"accuracy": 91.6})
    assert report.main(["--check", "--results", str(results), str(document)]) == 1
    report.main(["--write", "--results", str(results), str(document)])
    assert "| sentiment | IMDB | accuracy **90.37** |" in document.read_text()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / "log.jsonl").unlink(), "missing log.jsonl"),
        (lambda folder: (folder / "model.safetensors").write_bytes(b"x"), "no weights"),
        (lambda folder: (folder / "run.json").write_text('{"task": "babi"}'), "names task 'babi'"),
        (lambda folder: (folder / "metrics.json").write_text('{"test": {}}'), "no test.slot_f1"),
    ],
)
def test_a_broken_record_is_one_line_naming_it(tiny_results, capsys, damage, message):
    results, document = tiny_results
    damage(results / "slot-filling" / "a1")
    assert report.main(["--check", "--results", str(results), str(document)]) == 2
    error = capsys.readouterr().err
    assert message in error and "slot-filling/a1" in error and len(error.strip().splitlines()) == 1


def test_a_marked_table_missing_from_the_tables_file_is_an_error(tiny_results, capsys):
    results, document = tiny_results
    document.write_text("<!-- results:begin nowhere -->\n<!-- results:end -->\n")
    assert report.main(["--check", "--results", str(results), str(document)]) == 2
    assert "table 'nowhere' is not in results/tables.yaml" in capsys.readouterr().err
