"""The sentiment task end to end on tiny data written here: overfitting, the API, the CLI, and the errors."""

import json
import random

import pytest
import torch
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError, DataFormatError
from seqkit.predict.classifier import Classifier

POSITIVE = ["great", "wonderful", "superb", "moving", "delightful", "brilliant"]
NEGATIVE = ["awful", "boring", "dreadful", "dull", "terrible", "clumsy"]
FILLER = ["the", "film", "plot", "actors", "was", "and", "it", "story", "ending", "a"]
FAST = [
    "train.threads=1",
    "encoder.bigram_buckets=4096",
    "encoder.embedding_size=16",
    "encoder.bigram_size=16",
    "train.learning_rate=0.05",
    # 108 training texts: the recipe's 64 a step would make two batches, too few to group by length.
    "train.batch_size=16",
]


def review(rng: random.Random, positive: bool) -> str:
    words = [rng.choice(FILLER) for _ in range(rng.randint(4, 12))]
    for _ in range(2):
        words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if positive else NEGATIVE))
    return " ".join(words).capitalize() + ".<br /><br />"


def write_tsv(path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    rows = ["text\tlabel"]
    for index in range(count):
        positive = index % 2 == 0
        rows.append(f"{review(rng, positive)}\t{'pos' if positive else 'neg'}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reviews")
    write_tsv(folder / "train.tsv", 120, seed=1)
    write_tsv(folder / "test.tsv", 40, seed=2)
    return folder


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "bag"
    return api.train("sentiment", "my_texts", data_dir, out, FAST, show_progress=False)


def test_bag_of_ngrams_learns_the_toy_task(run_dir, data_dir):
    scores = api.evaluate(run_dir, "test", data_dir)
    assert scores["accuracy"] >= 95.0 and scores["documents"] == 40  # chance is 50
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["dev"]["documents"] == 12  # 10% of 120 held out


@pytest.mark.parametrize(
    "overrides",
    [
        ["head.context=rnn", "head.pooling=attention", "rnn.hidden_size=16", "train.learning_rate=0.02"],
        ["head.context=cnn", "head.pooling=max", "head.cnn_channels=8", "train.learning_rate=0.02"],
    ],
    ids=["bilstm-attention", "cnn"],
)
def test_recurrent_and_cnn_heads_overfit_a_small_set(data_dir, tmp_path, overrides):
    # Every epoch runs, nothing is dropped and the vectors start at N(0, 1) (the recipe's small start fits more
    # slowly, so its first epoch at 100% dev is not yet at 100% train): the test is whether the head can fit.
    settings = [*FAST, *overrides, "encoder.features=[embedding]", "train.epochs=12", "train.patience=null"]
    settings += ["head.dropout=0.0", "encoder.embedding_init_std=null"]
    settings.append("data.valid_fraction=0.5")
    run = api.train("sentiment", "my_texts", data_dir, tmp_path / "run", settings, show_progress=False)
    assert api.evaluate(run, "train", data_dir)["accuracy"] == 100.0


def test_classifier_api(run_dir):
    classifier = Classifier.load(run_dir)
    results = classifier.classify(["A wonderful, moving story.", "Dull and boring plot", "superb"])
    assert [r.label for r in results] == ["pos", "neg", "pos"]
    assert set(results[0].probabilities) == {"neg", "pos"}
    assert sum(results[0].probabilities.values()) == pytest.approx(1.0)
    (explanation,) = classifier.explain(["the plot was dreadful and terrible"])
    assert explanation.label == "neg"
    strongest = max(zip(explanation.contributions, explanation.tokens, strict=True))[1]
    assert strongest in ("dreadful", "terrible")
    with pytest.raises(Exception, match=r"texts\[1\]: no words left"):
        classifier.classify(["fine", "<br />"])
    with pytest.raises(Exception, match="wrap a single text"):
        classifier.classify("just one")


def test_cli_classify_and_explain(run_dir):
    runner = CliRunner()
    result = runner.invoke(app, ["classify", str(run_dir), "great wonderful film", "awful clumsy plot"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("pos\t") and lines[1].startswith("neg\t")
    result = runner.invoke(app, ["classify", str(run_dir), "--json"], input="a brilliant story\n\nboring\n")
    assert result.exit_code == 0
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["label"] for r in records] == ["pos", None, "neg"]  # the empty line's result is empty
    result = runner.invoke(app, ["explain", str(run_dir), "a superb film", "--json"])
    record = json.loads(result.output)
    assert record["label"] == "pos" and record["tokens"] == ["a", "superb", "film"]
    assert max(record["contributions"]) == record["contributions"][1]
    result = runner.invoke(app, ["explain", str(run_dir), "a superb film", "--color"])
    assert result.exit_code == 0 and "\x1b[48;5;" in result.output and "for:" in result.output
    plain = runner.invoke(app, ["explain", str(run_dir), "a superb film", "--no-color"])
    assert "\x1b[" not in plain.output and "superb[+" in plain.output


def test_cli_train_writes_a_run(data_dir, tmp_path):
    out = tmp_path / "cli-run"
    result = CliRunner().invoke(
        app,
        [
            *("train", "sentiment", "--recipe", "my_texts", "--data", str(data_dir), "--out", str(out)),
            *("--set", "train.epochs=2", "--set", "train.threads=1"),
        ],
    )
    assert result.exit_code == 0, result.output
    summary = result.stdout[result.stdout.index("{\n") :]  # after the per-epoch lines
    assert json.loads(summary)["dev"]["documents"] == 12
    assert (out / "model.safetensors").is_file() and (out / "vocab" / "labels.json").is_file()


def test_unknown_test_label_and_bad_settings(data_dir, run_dir, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "train.tsv").write_text((data_dir / "train.tsv").read_text())
    (folder / "test.tsv").write_text("text\tlabel\ngreat film\tpos\nso so\tmixed\n")
    with pytest.raises(DataFormatError, match=r"test.tsv:3: label 'mixed' was not seen in training"):
        api.evaluate(run_dir, "test", folder)
    with pytest.raises(ConfigError, match="data.truncate"):
        api.train("sentiment", "my_texts", data_dir, tmp_path / "x", ["data.truncate=middle"])
    with pytest.raises(ConfigError, match="head.pooling"):
        api.train("sentiment", "my_texts", data_dir, tmp_path / "y", ["head.pooling=last"])


def test_truncation_is_reported_once(data_dir, tmp_path, capsys):
    # Without the refit, whose vocabulary also reads the dev texts (12 more documents to cut).
    settings = [*FAST, "data.max_tokens=5", "train.epochs=2", "train.refit=false"]
    api.train("sentiment", "my_texts", data_dir, tmp_path / "cut", settings, show_progress=False)
    reported = [line for line in capsys.readouterr().err.splitlines() if "truncated" in line]
    expected = "train: truncated 108 of 108 documents (100.0%) to 5 tokens keeping the head+tail"
    assert reported[0].startswith(expected)
    assert sum(line.startswith("train:") for line in reported) == 1
    assert sum(line.startswith("evaluation:") for line in reported) == 1  # scored each epoch, told once


def test_batches_are_length_bucketed_and_deterministic(data_dir):
    from seqkit.tasks import get_task

    recipe = api.load_recipe("sentiment", "my_texts", FAST)
    task = get_task("sentiment")
    train = task.load_splits(recipe, data_dir, ("train",))["train"]
    make = task.training_batches(recipe, task.build_vocabularies(recipe, train), train)
    first, again = make(0), make(0)
    assert all(torch.equal(a["words"], b["words"]) for a, b in zip(first, again, strict=True))
    padding = sum(int((batch["words"] == 0).sum()) for batch in first)
    tokens = sum(int(batch["lengths"].sum()) for batch in first)
    assert padding < 0.1 * tokens  # similar lengths share a batch
