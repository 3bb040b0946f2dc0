"""`head.dropout: auto`: a text classifier takes no dropout for sentences and 0.5 for documents, chosen from the
mean length of its training texts when training starts; the run's config.yaml holds the number."""

import dataclasses
import json

import pytest
import yaml

from seqkit import api
from seqkit.errors import ConfigError
from seqkit.tasks import get_task
from seqkit.tasks.text_length_settings import DOCUMENT_DROPOUT, DOCUMENT_WORDS, mean_words, settle_dropout

SETTINGS = ["train.threads=1", "train.epochs=2", "head.dropout=auto"]


def write_texts(folder, words_per_text):
    folder.mkdir()
    for name, count in (("train.tsv", 40), ("test.tsv", 6)):
        lines = ["text\tlabel"]
        for index in range(count):
            label = "pos" if index % 2 else "neg"
            cue = "good" if label == "pos" else "bad"
            lines.append(" ".join([cue, *(f"w{(index + k) % 17}" for k in range(words_per_text - 1))]) + f"\t{label}")
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_mean_words_counts_whitespace_separated_words():
    assert mean_words(["a b c", "d", "e f"]) == 2.0
    assert mean_words([]) == 0.0


@pytest.mark.parametrize(
    ("words", "expected"), [(5, 0.0), (DOCUMENT_WORDS, 0.0), (DOCUMENT_WORDS + 1, DOCUMENT_DROPOUT)]
)
def test_auto_takes_no_dropout_for_sentences_and_some_for_documents(words, expected):
    recipe = api.load_recipe("sentiment", "my_texts", ["head.dropout=auto"])
    settled, note = settle_dropout(recipe, [" ".join(["w"] * words)] * 3)
    assert settled.head.dropout == expected
    assert note.startswith(f"head.dropout auto: {expected} (") and f"{words}.0 words" in note
    assert dataclasses.replace(settled, head=recipe.head) == recipe  # nothing else changes


def test_a_number_is_left_as_it_is():
    recipe = api.load_recipe("sentiment", "my_texts", ["head.dropout=0.3"])
    assert settle_dropout(recipe, ["a b"] * 2) == (recipe, None)


@pytest.mark.parametrize(("words", "expected"), [(4, 0.0), (80, DOCUMENT_DROPOUT)])
def test_a_run_dir_holds_the_chosen_number(tmp_path, capsys, words, expected):
    data = write_texts(tmp_path / "texts", words)
    run = api.train("sentiment", "my_texts", data, tmp_path / "run", SETTINGS, show_progress=False)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["head"]["dropout"] == expected
    assert f"note: head.dropout auto: {expected}" in capsys.readouterr().err
    assert json.loads((run / "metrics.json").read_text())["dev"]["accuracy"] >= 0
    assert api.evaluate(run, "test", data)["documents"] == 6  # the saved run loads with the number


def test_a_model_built_straight_from_the_recipe_takes_the_default_and_other_words_are_refused():
    from torch import nn

    from seqkit.tasks.sentiment import ClassifierConfig
    from seqkit.text.vocab import Vocab

    recipe = api.load_recipe("sentiment", "my_texts", ["head.dropout=auto"])
    head = get_task("sentiment").build_head(recipe, {"labels": Vocab.labels([["a"], ["b"]])}, 8)
    rates = [module.p for module in head.modules() if isinstance(module, nn.Dropout)]
    assert rates == [ClassifierConfig.dropout] == [0.5]
    with pytest.raises(ConfigError, match=r"^head.dropout: unknown dropout setting 'sometimes'"):
        api.load_recipe("sentiment", "my_texts", ["head.dropout=sometimes"])
