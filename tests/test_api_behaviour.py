"""The Python API and the CLI behave as users of Hugging Face pipelines, spaCy and Flair expect.

One string in gives one result out; pre-split tokens are accepted; spans carry character offsets into the
text as written, whose casing the output keeps; an empty input line gives an empty output line; non-UTF-8
stdin is a one-line error; evaluation finds the data a run was trained on; the API's n-best equals the CLI's;
`dir(seqkit)` shows the public API; `--device auto` (the default) takes a GPU when there is one.
"""

import json
import shutil
import subprocess
import sys

import pytest
import torch
from typer.testing import CliRunner

import seqkit
from seqkit import api
from seqkit.cli import app
from seqkit.errors import DataNotFoundError, InputError
from seqkit.predict import loading
from seqkit.predict.generation import Translator
from seqkit.predict.tagger import TaggedText, Tagger
from seqkit.runtime.device import CPU, resolve_device

from conftest import TINY_ATIS, write_recipe

runner = CliRunner()


@pytest.fixture(scope="module")
def tagger(tiny_tagger_run) -> Tagger:
    return Tagger.load(tiny_tagger_run)


def test_one_text_gives_one_result_and_a_list_gives_a_list(tagger):
    text = "flights from paris to rome"
    single = tagger.tag(text)
    assert isinstance(single, TaggedText)
    assert [single.to_json()] == [result.to_json() for result in tagger.tag([text])]
    with pytest.raises(InputError, match="text: empty text"):
        tagger.tag("   ")


def test_pre_split_tokens_are_tagged_as_given(tagger):
    words = ["flights", "to", "rome!", "at", "8", "a.m."]  # the tokenizer would split "rome!" in two
    one = tagger.tag(words, is_split_into_words=True)
    assert isinstance(one, TaggedText)
    assert one.tokens == words and len(one.tags) == 6 and one.text == " ".join(words)
    sentences = [["flights", "from", "st.", "louis"], ["fares", "to", "oslo"]]
    batch = tagger.tag(sentences, is_split_into_words=True)
    assert [result.tokens for result in batch] == sentences
    assert [result.to_json() for result in batch] == [result.to_json() for result in tagger.tag(
        ["flights from st. louis", "fares to oslo"])]
    with pytest.raises(InputError, match="list of tokens"):
        tagger.tag("flights to rome", is_split_into_words=True)
    with pytest.raises(InputError, match=r"texts\[1\]: no tokens"):
        tagger.tag([words, []], is_split_into_words=True)


def test_spans_carry_character_offsets_and_tokens_keep_their_case(tagger, monkeypatch):
    seen = []

    def predict(model, recipe, vocabularies, token_lists, batch_size):
        seen.extend(token_lists)
        # Fixed tags, so the spans do not depend on what the tiny model learnt: "New  York" and "Rome".
        return [{"tags": ["O", "O", "B-from", "I-from", "O", "B-to"]} for _ in token_lists]

    monkeypatch.setattr(tagger.task, "predict", predict)
    text = "Flights from New  York to Rome"
    result = tagger.tag(text)
    assert result.tokens == ["Flights", "from", "New", "York", "to", "Rome"]
    assert seen == [["flights", "from", "new", "york", "to", "rome"]]  # the model still reads lowercased words
    assert result.spans == [
        {"type": "from", "start": 2, "end": 4, "start_char": 13, "end_char": 22, "text": "New  York"},
        {"type": "to", "start": 5, "end": 6, "start_char": 26, "end_char": 30, "text": "Rome"},
    ]
    assert all(text[span["start_char"] : span["end_char"]] == span["text"] for span in result.spans)
    split = tagger.tag(["Flights", "from", "New", "York", "to", "Rome"], is_split_into_words=True)
    assert [(span["start_char"], span["end_char"], span["text"]) for span in split.spans] == [
        (13, 21, "New York"),
        (25, 29, "Rome"),
    ]


def test_the_cli_shows_words_as_written(tiny_tagger_run):
    result = runner.invoke(app, ["tag", str(tiny_tagger_run), "Flights from Paris"])
    assert result.exit_code == 0, result.output
    assert [pair.rsplit("/", 1)[0] for pair in result.output.split("\t")[0].split()] == ["Flights", "from", "Paris"]


def test_an_empty_line_gives_an_empty_result_in_its_place(tiny_tagger_run, tiny_classifier_run, tmp_path):
    lines = "flights to rome\n\n   \nfares to oslo\n"
    tagged = runner.invoke(app, ["tag", str(tiny_tagger_run), "--json"], input=lines)
    assert tagged.exit_code == 0, tagged.output
    printed = [json.loads(line) for line in tagged.output.splitlines()]
    assert [len(result["tokens"]) for result in printed] == [3, 0, 0, 3]
    assert printed[1] == {"text": "", "tokens": [], "tags": [], "spans": [], "intent": None, "intent_probability": None}
    plain = runner.invoke(app, ["tag", str(tiny_tagger_run)], input=lines)
    assert plain.exit_code == 0 and plain.output.split("\n")[1:3] == ["", ""] and plain.output.count("\n") == 4
    (tmp_path / "texts.txt").write_text(lines, encoding="utf-8")
    from_file = runner.invoke(app, ["tag", str(tiny_tagger_run), "--json", "--input", str(tmp_path / "texts.txt")])
    assert from_file.exit_code == 0 and [json.loads(line) for line in from_file.output.splitlines()] == printed
    classified = runner.invoke(app, ["classify", str(tiny_classifier_run), "--json"], input="a great film\n\n")
    assert classified.exit_code == 0, classified.output
    answers = [json.loads(line) for line in classified.output.splitlines()]
    assert len(answers) == 2 and answers[0]["label"] and answers[1]["label"] is None
    plain = runner.invoke(app, ["classify", str(tiny_classifier_run)], input="\na great film\n")
    assert plain.exit_code == 0 and plain.output.split("\n")[0] == "" and plain.output.count("\n") == 2


def test_non_utf8_stdin_is_a_one_line_error_naming_the_line(tiny_tagger_run):
    command = [sys.executable, "-m", "seqkit", "tag", str(tiny_tagger_run)]
    finished = subprocess.run(command, input=b"flights to rome\nfares \xff\xfe to oslo\n", capture_output=True)
    assert finished.returncode == 1
    assert finished.stderr.decode() == "error: stdin:2: not UTF-8 text\n"


def test_evaluate_finds_the_data_folder_the_run_was_trained_on(tmp_path, monkeypatch):
    monkeypatch.delenv("SEQKIT_DATA_DIR", raising=False)
    monkeypatch.setenv("SEQKIT_CACHE_DIR", str(tmp_path / "cache"))
    data = shutil.copytree(TINY_ATIS, tmp_path / "atis copy")
    recipe = write_recipe(tmp_path, train={"epochs": 1})
    command = ["train", "slot-filling", "-r", str(recipe), "--data", str(data), "-o", str(tmp_path / "run")]
    trained = runner.invoke(app, command)
    assert trained.exit_code == 0, trained.output
    scored = runner.invoke(app, ["evaluate", str(tmp_path / "run"), "--json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["sentences"] == 8
    assert api.evaluate(tmp_path / "run", "valid")["sentences"] > 0
    with pytest.raises(DataNotFoundError, match=f"--data {tmp_path / 'nowhere'}"):
        api.evaluate(tmp_path / "run", data_dir=tmp_path / "nowhere")  # --data overrides the recorded folder
    shutil.rmtree(data)
    with pytest.raises(DataNotFoundError, match=f"trained with --data {data}, which no longer exists.*--data"):
        api.evaluate(tmp_path / "run")


@pytest.mark.parametrize("n_best", [2, 3])  # 3 is wider than the recipe's beam of 2: the beam widens to fit
def test_translate_n_best_equals_the_cli(tiny_translation_run, n_best):
    texts = ["ant bee cat", "dog eel fox", "gnu hen"]
    found = Translator.load(tiny_translation_run).translate(texts, n_best=n_best)
    expected = [f"{index}\t{hypothesis.score:.4f}\t{hypothesis.text}" for index, hypotheses in enumerate(found)
                for hypothesis in hypotheses]
    printed = runner.invoke(app, ["translate", str(tiny_translation_run), "--n-best", str(n_best)],
                            input="\n".join(texts) + "\n")
    assert printed.exit_code == 0, printed.output
    assert printed.output.splitlines() == expected and len(expected) == n_best * len(texts)
    best = Translator.load(tiny_translation_run).translate(texts, beam=n_best)  # the widened beam's best
    assert [hypothesis.text for hypothesis in best] == [hypotheses[0].text for hypotheses in found]


def test_dir_lists_the_public_api_and_import_stays_light():
    public = {"Tagger", "Classifier", "Translator", "Summarizer", "Reader", "train", "evaluate", "__version__"}
    assert public <= set(dir(seqkit)) and public <= set(seqkit.__all__)
    assert seqkit.train is api.train and seqkit.evaluate is api.evaluate and seqkit.Tagger is Tagger
    code = "import sys, seqkit; print('torch' in sys.modules, sorted(set(seqkit.__all__) - set(dir(seqkit))))"
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert finished.stdout.split() == ["False", "[]"]


def test_auto_takes_a_gpu_when_there_is_one(monkeypatch, tiny_tagger_run):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == CPU
    placed = []
    monkeypatch.setattr(loading, "place", lambda model, device: placed.append(device) or model)
    Tagger.load(tiny_tagger_run)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    assert resolve_device("auto") == torch.device("cuda", 0)
    Tagger.load(tiny_tagger_run)
    assert runner.invoke(app, ["tag", str(tiny_tagger_run), "flights"]).exit_code == 0
    Tagger.load(tiny_tagger_run, quantize="int8")  # int8 runs on the CPU: auto leaves the GPU alone
    assert placed == [CPU, torch.device("cuda", 0), torch.device("cuda", 0), CPU]
