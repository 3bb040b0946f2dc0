"""The language-model task on tiny data: perplexity is exp(mean negative log-likelihood), checked by hand and on a
model whose every prediction is uniform; `score` and `sample` keep their promises and refuse bad input in one
line; the recipe refuses a model that could read the word it predicts; rnn.init_from starts another task's
recurrent layer from a trained language model's."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError, InputError
from seqkit.model import build_model
from seqkit.predict.language_model import LanguageModel
from seqkit.run_dirs.run_dir import load_run
from seqkit.tasks import TASKS
from seqkit.tasks.language_model import LanguageModelTask, perplexity

from conftest import ANIMALS

TASK_NAME = next(name for name, task in TASKS.items() if isinstance(task, LanguageModelTask))
TINY = [
    "data.train=train.txt",
    "data.valid=valid.txt",
    "data.test=test.txt",
    "encoder.embedding_size=8",
    "encoder.min_freq=1",
    "rnn.hidden_size=8",
    "train.batch_size=4",
    "train.warmup_steps=0",
    "train.epochs=2",
    "train.threads=1",
]


def write_sentences(folder: Path) -> Path:
    """Train, valid and test files of three-animal sentences (and a blank line, which is skipped)."""
    folder.mkdir(parents=True, exist_ok=True)
    generator = random.Random(3)
    for split, count in (("train", 24), ("valid", 6), ("test", 6)):
        lines = [" ".join(generator.choice(ANIMALS) for _ in range(3)) for _ in range(count)]
        (folder / f"{split}.txt").write_text("\n".join(lines[:2] + [""] + lines[2:]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return write_sentences(tmp_path_factory.mktemp("sentences"))


@pytest.fixture(scope="module")
def run_dir(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("language_model") / "tiny-lm"
    return api.train(TASK_NAME, data_dir=data, out=out, overrides=TINY, show_progress=False)


# ---- perplexity --------------------------------------------------------------------------------------------------
def test_perplexity_is_the_exponential_of_the_mean_negative_log_likelihood():
    # Probabilities 1/2 and 1/8: mean negative log-likelihood (ln 2 + 3 ln 2) / 2 = 2 ln 2, so perplexity 4.
    assert perplexity([math.log(1 / 2), math.log(1 / 8)]) == pytest.approx(4.0)
    assert perplexity([0.0, 0.0]) == 1.0  # certain of every word
    with pytest.raises(ValueError):
        perplexity([])


def test_a_model_that_predicts_uniformly_has_the_lexicon_size_as_perplexity(data):
    recipe = api.load_recipe(TASK_NAME, None, TINY)
    task = TASKS[TASK_NAME]
    splits = task.load_splits(recipe, data, ("train", "valid"))
    vocabularies = task.build_vocabularies(recipe, splits["train"])
    model = build_model(recipe, vocabularies)
    with torch.no_grad():  # equal scores for every word: each prediction has probability 1 / V
        model.head.output.weight.zero_()
        model.head.output.bias.zero_()
    size = len(vocabularies["words"])  # 8 animals, <pad>, <unk>, <s>, </s>
    assert size == len(set(ANIMALS)) + 4
    scores = task.evaluate(model, recipe, vocabularies, splits["valid"])
    assert scores["perplexity"] == pytest.approx(size)
    assert scores["log_likelihood"] == pytest.approx(-math.log(size))
    assert scores["sentences"] == 6 and scores["predictions"] == 6 * 4  # three words and the end, blank line skipped
    assert scores["unknown_rate"] == 0.0


def test_evaluation_agrees_with_scoring_each_sentence(run_dir, data):
    scores = api.evaluate(run_dir, "test", data)
    sentences = [line for line in (data / "test.txt").read_text().splitlines() if line.strip()]
    scored = LanguageModel.load(run_dir, "cpu").score(sentences)
    values = [value for result in scored for value in result.token_log_probabilities]
    assert scores["perplexity"] == pytest.approx(math.exp(-sum(values) / len(values)))
    for result in scored:
        assert result.log_probability == pytest.approx(sum(result.token_log_probabilities))
        assert len(result.token_log_probabilities) == len(result.tokens) + 1
        assert result.perplexity == pytest.approx(math.exp(-result.log_probability / (len(result.tokens) + 1)))


# ---- score and sample ----------------------------------------------------------------------------------------------
def test_scores_do_not_depend_on_the_batch(run_dir):
    language_model = LanguageModel.load(run_dir, "cpu")
    texts = ["ant bee cat", "dog", "eel fox gnu hen ant bee cat dog"]
    together = language_model.score(texts)
    alone = [language_model.score([text])[0] for text in texts]
    for one, other in zip(together, alone, strict=True):
        assert one.token_log_probabilities == pytest.approx(other.token_log_probabilities, abs=1e-5)


def test_sampling_is_deterministic_given_the_seed(run_dir):
    language_model = LanguageModel.load(run_dir, "cpu")
    first = language_model.sample("ant", words=6, temperature=1.0, seed=7)
    assert first == language_model.sample("ant", words=6, temperature=1.0, seed=7)
    assert 1 <= len(first.words) <= 6 or first.ended
    assert first.text == " ".join(["ant", *first.words])
    assert all(word in ANIMALS for word in first.words)  # never <unk>, <s> or <pad>
    draws = {tuple(language_model.sample("ant", words=6, seed=seed).words) for seed in range(8)}
    assert len(draws) > 1  # the seed matters


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda lm: lm.sample(""), "prompt: empty text"),
        (lambda lm: lm.sample("   "), "prompt: empty text"),
        (lambda lm: lm.sample(3), "prompt: expected a string"),
        (lambda lm: lm.sample("ant", words=0), "words: expected a whole number"),
        (lambda lm: lm.sample("ant", temperature=0), "temperature: expected a number above 0"),
        (lambda lm: lm.score("ant bee"), "score() takes a list of texts"),
        (lambda lm: lm.score(["ant", ""]), "texts[1]: empty text"),
    ],
)
def test_bad_input_is_one_line(run_dir, call, message):
    with pytest.raises(InputError) as refused:
        call(LanguageModel.load(run_dir, "cpu"))
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


def test_the_cli_scores_lines_and_samples(run_dir):
    runner = CliRunner()
    result = runner.invoke(app, ["score", str(run_dir)], input="ant bee cat\n\nDog\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.split("\n")
    assert lines[1] == "" and lines[0].endswith("\tant bee cat") and lines[2].endswith("\tDog")
    expected = LanguageModel.load(run_dir, "cpu").score(["ant bee cat"])[0]
    assert float(lines[0].split("\t")[0]) == pytest.approx(expected.log_probability, abs=1e-4)
    command = ["sample", str(run_dir), "--prompt", "ant", "--words", "4", "--seed", "3", "--count", "2"]
    first, again = runner.invoke(app, command), runner.invoke(app, command)
    assert first.exit_code == 0 and first.stdout == again.stdout and len(first.stdout.splitlines()) == 2
    refused = runner.invoke(app, ["sample", str(run_dir), "--prompt", ""])
    assert refused.exit_code != 0 and isinstance(refused.exception, InputError)


# ---- the recipe ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("override", "key"),
    [("rnn.bidirectional=true", "rnn.bidirectional"), ("encoder.features=[embedding, pretrained]", "encoder.features")],
)
def test_a_model_that_could_read_the_next_word_is_refused(data, override, key):
    extra = ["encoder.pretrained_model=any"] if "pretrained" in override else []
    recipe = api.load_recipe(TASK_NAME, None, [*TINY, override, *extra])
    task = TASKS[TASK_NAME]
    vocabularies = task.build_vocabularies(recipe, task.load_splits(recipe, data, ("train",))["train"])
    with pytest.raises(ConfigError, match=rf"^{key}: "):
        task.build_head(recipe, vocabularies, 8)


# ---- rnn.init_from ---------------------------------------------------------------------------------------------------
def classifier_recipe(folder: Path, rnn: dict) -> Path:
    """A sentiment-style recipe over the tiny texts with a recurrent context of its own settings."""
    classifying = next(name for name, task in TASKS.items() if task.predictor == "Classifier")
    recipe = {
        "task": classifying,
        "data": {"dataset": "my_texts", "train": "train.tsv", "valid": None, "test": "test.tsv", "valid_fraction": 0.2},
        "encoder": {"features": ["embedding"], "embedding_size": 8, "min_freq": 1},
        "rnn": {"cell": "lstm", "hidden_size": 8, "bidirectional": True, **rnn},
        "head": {"context": "rnn", "pooling": "max"},
        "train": {
            "epochs": 1,
            "max_steps": 1,
            "batch_size": 4,
            "learning_rate": 1e-9,
            "weight_decay": 0.0,
            "threads": 1,
        },
    }
    path = folder / "classifier.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_a_trained_language_model_starts_another_tasks_recurrent_layer(run_dir, tmp_path):
    from conftest import DATA

    recipe = classifier_recipe(tmp_path, {"init_from": str(run_dir)})
    out = api.train(None, recipe, data_dir=DATA / "my_texts", out=tmp_path / "classifier", show_progress=False)
    _, _, language_model = load_run(run_dir)
    _, _, classifier = load_run(out)
    source = language_model.head.rnn.state_dict()
    copied = classifier.head.context.state_dict()
    assert source  # the forward direction came over (one step at a learning rate of 1e-9 leaves it in place)
    for name, tensor in source.items():
        assert torch.allclose(copied[name], tensor, atol=1e-6), name
    assert not torch.allclose(copied["rnn.weight_hh_l0_reverse"], source["rnn.weight_hh_l0"])  # fresh backward


def test_a_recurrent_layer_that_does_not_fit_is_a_one_line_error(run_dir, tmp_path):
    from conftest import DATA

    recipe = classifier_recipe(tmp_path, {"init_from": str(run_dir), "hidden_size": 12})
    with pytest.raises(ConfigError) as refused:
        api.train(None, recipe, data_dir=DATA / "my_texts", out=tmp_path / "classifier", show_progress=False)
    message = str(refused.value)
    assert message.startswith("rnn.init_from: ") and "\n" not in message and "(32, 8) there and (48, 8) here" in message
    assert not (tmp_path / "classifier").exists()  # refused before the run dir was written
