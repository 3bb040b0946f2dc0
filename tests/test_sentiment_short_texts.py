"""The short-text recipes (my_texts, my_texts_rnn, my_texts_pretrained) on tiny data written here: each stops
early on dev and keeps the weights of its best epoch; the benchmark's fastText input and the suite table."""

import json
import random

import pytest

from seqkit import api
from seqkit.api import load_recipe

POSITIVE = ["great", "fine", "lovely", "sharp", "solid", "handy"]
NEGATIVE = ["broken", "flimsy", "awful", "dead", "noisy", "useless"]
FILLER = ["the", "battery", "screen", "it", "is", "was", "and", "really", "phone", "case"]


def write_tsv(path, count: int, seed: int, noise: float = 0.0) -> None:
    """Short texts: 3 to 6 words, one of them a cue word; `noise` of the labels flipped so dev can decline."""
    rng = random.Random(seed)
    rows = ["text\tlabel"]
    for index in range(count):
        positive = index % 2 == 0
        words = [rng.choice(FILLER) for _ in range(rng.randint(2, 5))]
        words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if positive else NEGATIVE))
        label = positive != (rng.random() < noise)
        rows.append(f"{' '.join(words)}\t{'pos' if label else 'neg'}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("short")
    write_tsv(folder / "train.tsv", 400, seed=1, noise=0.15)
    write_tsv(folder / "test.tsv", 40, seed=2)
    return folder


def test_my_texts_stops_early_and_keeps_the_best_epoch(data_dir, tmp_path):
    # Without the refit, whose weights are another model's (tests/test_refit.py).
    settings = ["train.threads=1", "train.epochs=10", "encoder.bigram_buckets=4096", "train.refit=false"]
    run = api.train("sentiment", "my_texts", data_dir, tmp_path / "run", settings, show_progress=False)
    recipe = load_recipe("sentiment", "my_texts")
    patience = recipe.train.patience
    assert patience is not None, "my_texts stops early on dev"
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    dev = json.loads((run / "metrics.json").read_text())["dev"]
    curve = [entry["dev_accuracy"] for entry in log]
    best = dev["best_epoch"]
    # The best epoch is the first with the highest dev accuracy, and training went on `patience` epochs past it
    # (or to the last epoch) and no further.
    assert curve[best - 1] == max(curve) and curve.index(max(curve)) == best - 1
    assert len(curve) == min(best + patience, 10) and dev["epochs"] == len(curve)
    assert len(curve) < 10  # the noisy labels stop it well before the last epoch
    # The saved weights are the best epoch's, not the last's: scoring them on dev again gives the best figure.
    assert api.evaluate(run, "valid", data_dir)["accuracy"] == pytest.approx(curve[best - 1])


@pytest.mark.parametrize("name", ["my_texts_rnn", "my_texts_pretrained"])
def test_the_short_text_options_stop_early_too(name):
    recipe = load_recipe("sentiment", name)
    assert recipe.data.dataset == "my_texts" and recipe.train.patience is not None
    if name == "my_texts_rnn":
        assert recipe.head.context == "rnn"
    else:
        assert "pretrained" in recipe.encoder.features


def test_the_rnn_option_trains_on_short_texts(data_dir, tmp_path):
    settings = ["train.threads=1", "train.learning_rate=0.02", "rnn.hidden_size=16", "encoder.embedding_size=16"]
    run = api.train("sentiment", "my_texts_rnn", data_dir, tmp_path / "rnn", settings, show_progress=False)
    assert api.evaluate(run, "test", data_dir)["accuracy"] >= 80.0  # chance is 50; the cue word decides


def test_fasttext_input_is_lowercased_labelled_lines(tmp_path):
    from benchmarks.textcls import fasttext_lines

    source = tmp_path / "train.tsv"
    source.write_text("text\tlabel\nThe Screen  is GREAT\tpos\nWhat is ABBR ?\tABBR\n", encoding="utf-8")
    lines = fasttext_lines(source, tmp_path / "train.txt").read_text(encoding="utf-8").splitlines()
    assert lines == ["__label__pos the screen is great", "__label__ABBR what is abbr ?"]
    # fastText never shuffles its training file, so the benchmark does (once, with a fixed seed).
    source.write_text("text\tlabel\n" + "".join(f"text {index}\tpos\n" for index in range(20)), encoding="utf-8")
    ordered = fasttext_lines(source, tmp_path / "ordered.txt").read_text(encoding="utf-8").splitlines()
    shuffled = fasttext_lines(source, tmp_path / "shuffled.txt", shuffle=True).read_text(encoding="utf-8").splitlines()
    again = fasttext_lines(source, tmp_path / "again.txt", shuffle=True).read_text(encoding="utf-8").splitlines()
    assert shuffled != ordered and sorted(shuffled) == sorted(ordered) and again == shuffled


def test_suite_table_reads_records_and_the_benchmark_output(tmp_path):
    from benchmarks.report import suite_table

    results = tmp_path / "results"
    folder = results / "sentiment" / "textcls-my_texts-trec"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("task: sentiment\n")
    (folder / "metrics.json").write_text(json.dumps({"dev": {"accuracy": 88.0}, "test": {"accuracy": 89.8}}))
    (folder / "log.jsonl").write_text(json.dumps({"epoch": 1, "seconds": 1.0}) + "\n")
    (folder / "run.json").write_text(json.dumps({"task": "sentiment"}))
    measured = {"trec": {"my_texts": {"seconds": 6.5}, "fasttext": {"accuracy": 89.6, "seconds": 0.5}}}
    (results / "textcls.json").write_text(json.dumps({"corpora": measured}))
    spec = {"benchmarks": ["textcls.json"], "recipes": ["my_texts"], "corpora": ["trec", "cr"]}
    rows = suite_table(spec, results).splitlines()
    assert rows[2] == "| trec | 89.80 | 89.60 | 6.5 / 0.5 |"
    assert rows[3] == "| cr | not run | not run | - / - |"
