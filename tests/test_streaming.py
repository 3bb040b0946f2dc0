"""Streamed training data: a corpus read line by line into a cached, memory-mapped Arrow table gives exactly the
batches of the in-memory path; the table is re-used, and a damaged one is reported and rebuilt."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import torch

from seqkit import api
from seqkit.data.parallel import ParallelCorpus, open_parallel, read_parallel
from seqkit.errors import DataFormatError
from seqkit.predict.generation import Translator
from seqkit.tasks import generation

WORDS = "ant bee cat dog eel fox gnu hen ibis jay kite lark".split()


def write_corpus(folder: Path, count: int, zipped: bool = False) -> tuple[Path, Path]:
    """`count` pairs of 1-9 words (a few too long for max_length 8), optionally gzipped."""
    generator = torch.Generator().manual_seed(count)
    sources, targets = [], []
    for _ in range(count):
        length = int(torch.randint(1, 10, (1,), generator=generator))
        chosen = [WORDS[int(i)] for i in torch.randint(0, len(WORDS), (length,), generator=generator)]
        sources.append(" ".join(chosen))
        targets.append(" ".join(reversed(chosen[: max(1, length - 1)])))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, lines in (("train.src", sources), ("train.tgt", targets)):
        text = ("\n".join(lines) + "\n").encode("utf-8")
        path = folder / (name + (".gz" if zipped else ""))
        path.write_bytes(gzip.compress(text) if zipped else text)
        paths.append(path)
    return paths[0], paths[1]


def recipe(*extra: str):
    overrides = ["data.subwords.vocab_size=null", "data.max_length=8", "train.batch_size=5", *extra]
    return api.load_recipe("translation", None, overrides)


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQKIT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def assert_same_batches(first, second):
    assert len(first) == len(second)
    for one, two in zip(first, second, strict=True):
        assert one.keys() == two.keys()
        for name in one:
            assert torch.equal(one[name], two[name]), name


@pytest.mark.parametrize("copy, max_tokens", [(False, "null"), (True, "null"), (False, "24")])
def test_streamed_batches_equal_in_memory_batches(tmp_path, copy, max_tokens):
    source, target = write_corpus(tmp_path / "data", 230, zipped=True)
    config = recipe(f"head.copy={str(copy).lower()}", f"train.max_tokens={max_tokens}")
    in_memory, streamed = read_parallel(source, target), ParallelCorpus(source, target)
    vocabularies = generation.build_vocabularies(config, in_memory)
    streamed_vocabularies = generation.build_vocabularies(config, streamed)
    for name in ("words", "targets"):
        assert vocabularies[name].tokens == streamed_vocabularies[name].tokens
    memory_epochs = generation.training_batches(config, vocabularies, in_memory)
    streamed_epochs = generation.training_batches(config, vocabularies, streamed)
    for epoch in (0, 1):
        batches = streamed_epochs(epoch)
        assert not isinstance(batches, list)  # collated lazily, batch by batch
        assert_same_batches(memory_epochs(epoch), batches)


def test_subword_vocabularies_stream_too(tmp_path):
    source, target = write_corpus(tmp_path / "data", 120)
    config = recipe("data.subwords.vocab_size=30")
    in_memory = generation.build_vocabularies(config, read_parallel(source, target))
    streamed = generation.build_vocabularies(config, ParallelCorpus(source, target))
    assert in_memory["subwords"].model_bytes == streamed["subwords"].model_bytes
    assert in_memory["words"].tokens == streamed["words"].tokens


def test_table_is_reused_and_a_damaged_one_is_rebuilt(tmp_path, private_cache, capfd):
    source, target = write_corpus(tmp_path / "data", 150)
    config = recipe()
    corpus = ParallelCorpus(source, target)
    vocabularies = generation.build_vocabularies(config, corpus)
    expected = list(generation.training_batches(config, vocabularies, corpus)(0))
    assert "converting" in capfd.readouterr().err
    (table,) = (private_cache / "arrow").iterdir()
    generation.training_batches(config, vocabularies, corpus)
    assert "converting" not in capfd.readouterr().err  # the cached table was read, not rebuilt

    (arrow_file,) = table.glob("*.arrow")
    arrow_file.write_bytes(arrow_file.read_bytes()[:100])  # a crash or a full disk truncated it
    rebuilt = generation.training_batches(config, vocabularies, corpus)(0)
    message = capfd.readouterr().err
    assert "cached Arrow table is damaged" in message and str(table) in message
    assert_same_batches(expected, rebuilt)

    # A changed file (or vocabulary) is a new key, hence a new table.
    with open(source, "a", encoding="utf-8") as handle, open(target, "a", encoding="utf-8") as other:
        handle.write("ant bee\n")
        other.write("bee\n")
    generation.training_batches(config, vocabularies, corpus)
    assert len(list((private_cache / "arrow").iterdir())) == 2


def test_streamed_reader_names_file_and_line(tmp_path):
    source, target = write_corpus(tmp_path / "data", 20)
    target.write_text("\n".join(target.read_text().splitlines()[:12]) + "\n")
    with pytest.raises(DataFormatError, match=r"train\.tgt:13: ends before train\.src"):
        list(ParallelCorpus(source, target))
    lines = source.read_text().splitlines()[:12]
    lines[4] = "   "
    source.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"train\.src:5: empty line"):
        list(ParallelCorpus(source, target))
    source.write_bytes(b"ok\n\xff\xfe\n" + b"x\n" * 10)
    with pytest.raises(DataFormatError, match=r"train\.src:2: not UTF-8"):
        list(ParallelCorpus(source, target))


def test_stream_option_and_size_threshold(tmp_path):
    source, target = write_corpus(tmp_path / "data", 10)
    assert isinstance(open_parallel(source, target, None, None), list)  # small files stay in memory
    assert isinstance(open_parallel(source, target, 4, True), ParallelCorpus)
    assert len(list(open_parallel(source, target, 4, True))) == 4


def test_training_on_a_streamed_corpus_writes_a_working_run_dir(tmp_path):
    folder = tmp_path / "data"
    write_corpus(folder, 90)
    (folder / "dev.src").write_text("ant bee\ncat dog eel\n")
    (folder / "dev.tgt").write_text("ant\ndog cat\n")
    overrides = [
        "data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=dev",
        "data.stream=true", "data.subwords.vocab_size=null", "encoder.embedding_size=8", "rnn.hidden_size=8",
        "head.embedding_size=8", "head.hidden_size=16", "head.beam=1", "train.epochs=3", "train.max_steps=4",
        "train.batch_size=16", "train.threads=1",
    ]
    run = api.train("translation", data_dir=folder, out=tmp_path / "run", overrides=overrides, show_progress=False)
    log = (run / "log.jsonl").read_text().splitlines()
    assert len(log) == 1 and '"step": 4' in log[0]  # 90 pairs / 16 = 6 batches; the 4-step budget stops epoch 1
    (found,) = Translator.load(run).translate(["ant bee cat"])
    assert isinstance(found.text, str)
