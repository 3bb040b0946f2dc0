"""Parallel readers, the run dir of a generation model, the Translator API and the streaming CLI."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqkit import api
from seqkit.data.parallel import read_parallel
from seqkit.errors import DataFormatError, InputError
from seqkit.predict.generation import Summarizer, Translator

REPOSITORY = Path(__file__).resolve().parent.parent
WORDS = "ant bee cat dog eel fox gnu hen".split()


def write_pair(folder: Path, split: str, count: int) -> None:
    generator = torch.Generator().manual_seed(len(split) + count)
    sources, targets = [], []
    for _ in range(count):
        chosen = [WORDS[int(i)] for i in torch.randint(0, len(WORDS), (3,), generator=generator)]
        sources.append(" ".join(chosen))
        targets.append(" ".join(w.capitalize() for w in reversed(chosen)) + ".")
    (folder / f"{split}.src").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (folder / f"{split}.tgt").write_text("\n".join(targets) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def pair_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pair")
    for split, count in (("train", 60), ("dev", 10), ("test", 10)):
        write_pair(folder, split, count)
    return folder


# A small translator on the pair that `pair_folder` writes, with sentencepiece pieces (test_ensemble.py too).
TOY_SETTINGS = [
    "data.file_pattern={split}.{lang}",
    "data.src_lang=src",
    "data.tgt_lang=tgt",
    "data.valid=dev",
    "data.test=test",
    "data.subwords.vocab_size=40",
    "encoder.embedding_size=16",
    "rnn.hidden_size=16",
    "head.embedding_size=16",
    "head.hidden_size=32",
    "head.beam=2",
    "train.epochs=2",
    "train.batch_size=16",
    "train.threads=1",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, pair_folder) -> Path:
    """A small translator trained on a user's own plain-text pair, with sentencepiece pieces."""
    folder = pair_folder
    overrides = TOY_SETTINGS
    out = tmp_path_factory.mktemp("runs") / "toy"
    return api.train("translation", data_dir=folder, out=out, overrides=overrides, show_progress=False)


def test_the_run_dir_holds_the_subword_model_and_scores_carry_the_sacrebleu_signature(run_dir, pair_folder):
    assert (run_dir / "vocab" / "subwords.model").is_file()
    scores = api.evaluate(run_dir, "test", data_dir=pair_folder)
    assert scores["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert "chrf" in scores and scores["sentences"] == 10


def test_translator_api_batches_and_returns_attention(run_dir):
    translator = Translator.load(run_dir)
    outputs = translator.translate(["ant bee cat", "dog eel"], beam=2, with_attention=True)
    assert len(outputs) == 2 and all(isinstance(o.text, str) for o in outputs)
    assert outputs[0].attention.shape[1] == len(outputs[0].source_tokens)
    n_best = translator.translate_n_best(["ant bee cat"], beam=3, n_best=3)
    assert len(n_best[0]) == 3 and n_best[0][0].score >= n_best[0][-1].score
    with pytest.raises(InputError, match=r"texts\[1\]: empty"):
        translator.translate(["ant", " "])
    with pytest.raises(Exception, match="not a 'title-generation' model"):
        Summarizer.load(run_dir)


def test_attention_picture_is_written(run_dir, tmp_path):
    from seqkit.viz.attention import plot_attention

    (output,) = Translator.load(run_dir).translate(["ant bee cat"], with_attention=True)
    path = plot_attention(output, tmp_path / "attention.png")
    assert path.read_bytes().startswith(b"\x89PNG")


def test_cli_streams_batches_before_the_input_ends(run_dir, tmp_path):
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "seqkit", "translate", str(run_dir), "--batch-size", "2", "--beam", "1"]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        process.stdin.write("ant bee cat\ndog eel fox\n")
        process.stdin.flush()
        first, second = process.stdout.readline(), process.stdout.readline()  # while stdin is still open
        assert first.endswith("\n") and second.endswith("\n")
        process.stdin.write("\ngnu hen\n")
        process.stdin.close()
        rest = process.stdout.read().split("\n")
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        process.stdout.close()
        process.stderr.close()
    assert rest[0] == "" and rest[1] and rest[2:] == [""]  # the empty line stays aligned


def test_cli_files_n_best_and_attention(run_dir, tmp_path):
    from typer.testing import CliRunner

    from seqkit.cli import app

    (tmp_path / "in.txt").write_text("ant bee\ncat dog eel\n", encoding="utf-8")
    arguments = [
        "translate",
        str(run_dir),
        "--input",
        str(tmp_path / "in.txt"),
        "--output",
        str(tmp_path / "out.txt"),
        "--beam",
        "3",
        "--n-best",
        "2",
        "--attention",
        str(tmp_path / "a.png"),
    ]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in lines] == ["0", "0", "1", "1"]
    assert (tmp_path / "a.png").is_file() and (tmp_path / "a-2.png").is_file()


def test_parallel_reader_names_file_and_line(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("un\ndeux\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"b.txt:3: has 2 lines but a.txt has 3"):
        read_parallel(tmp_path / "a.txt", tmp_path / "b.txt")
    (tmp_path / "c.txt").write_text("un\n\ntrois\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"c.txt:2: empty line"):
        read_parallel(tmp_path / "a.txt", tmp_path / "c.txt")
    (tmp_path / "d.gz").write_bytes(gzip.compress(b"un\ndeux\n" + b"tr\xffois\n"))
    with pytest.raises(DataFormatError, match=r"d.gz:3: not UTF-8"):
        read_parallel(tmp_path / "a.txt", tmp_path / "d.gz")
    assert [p.target for p in read_parallel(tmp_path / "a.txt", tmp_path / "c.txt", limit=1)] == ["un"]


def test_cli_summarize_writes_the_summarizers_titles(tiny_title_run, tmp_path):
    """`summarize` is the same streaming command as `translate`, over the Summarizer of a title run dir."""
    from typer.testing import CliRunner

    from seqkit.cli import app

    articles = ["ant bee cat dog", "", "eel fox gnu"]
    (tmp_path / "in.txt").write_text("\n".join(articles) + "\n", encoding="utf-8")
    arguments = ["summarize", str(tiny_title_run), "--input", str(tmp_path / "in.txt"), "--beam", "2"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    expected = Summarizer.load(tiny_title_run).summarize([articles[0], articles[2]], beam=2)
    assert result.output.splitlines() == [expected[0].text, "", expected[1].text]


def test_an_encoder_reading_what_seq2seq_batches_lack_is_refused_before_anything_is_written(pair_folder, tmp_path):
    from seqkit.errors import ConfigError

    overrides = ["data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=dev",
                 "data.subwords.vocab_size=40", "encoder.features=[embedding,word_hash]", "train.threads=1"]
    refused = r"^encoder.features\[1\]: the translation task does not accept 'word_hash' "
    with pytest.raises(ConfigError, match=refused + r"\(accepted: embedding, one_hot\)$"):
        api.train("translation", data_dir=pair_folder, out=tmp_path / "run", overrides=overrides, show_progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("task", ["translation", "title-generation"])
def test_both_seq2seq_tasks_refuse_other_encoders_in_the_one_message(task):
    from seqkit.errors import ConfigError
    from seqkit.model import build_model

    recipe = api.load_recipe(task, None, ["encoder.features=[one_hot,characters]"])
    refused = rf"^encoder.features\[1\]: the {task} task does not accept 'characters' "
    with pytest.raises(ConfigError, match=refused + r"\(accepted: embedding, one_hot\)$"):
        build_model(recipe, {})  # refused before any vocabulary is read
