"""Shareable models: a packed `.seqkit` file and a Hugging Face hub snapshot answer exactly as the run dir they
came from, through every predictor and the CLI; broken, truncated and hostile packed files are refused."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import RunDirError
from seqkit.predict.registry import PREDICTORS
from seqkit.run_dirs.locate import MANIFEST, resolve_run_dir
from seqkit.run_dirs.packing import pack_run_dir

from conftest import TINY_ATIS, TINY_SEQ2SEQ, write_animal_pairs

TAG_TEXTS = ["show me flights from boston to denver", "what is the fare to paris"]
ANIMAL_TEXTS = ["ant bee cat", "fox gnu hen", "eel dog ant"]
STORY = ["Mary went to the kitchen.", "John went to the garden."]
QUESTION = "Where is Mary?"
SENTIMENT_TEXTS = ["a wonderful film", "dull and far too long"]

# Each predictor, its run dir fixture, and how to ask it: (predictor, fixture, call).
PREDICTIONS = {
    "tagger": ("Tagger", "tiny_tagger_run", lambda model: model.tag(TAG_TEXTS)),
    "translator": ("Translator", "subword_translation_run", lambda model: model.translate(ANIMAL_TEXTS, beam=2)),
    "summarizer": ("Summarizer", "tiny_title_run", lambda model: model.summarize(ANIMAL_TEXTS)),
    "reader": ("Reader", "tiny_babi_run", lambda model: [model.answer(STORY, QUESTION)]),
    "classifier": ("Classifier", "tiny_classifier_run", lambda model: model.classify(SENTIMENT_TEXTS)),
    "language_model": (
        "LanguageModel",
        "tiny_language_model_run",
        lambda model: [*model.score(ANIMAL_TEXTS), model.sample("ant", words=4, seed=1)],
    ),
}


@pytest.fixture(scope="module")
def subword_translation_run(tmp_path_factory) -> Path:
    """A translation run dir with sentencepiece models in vocab/ (the tiny_translation_run has none)."""
    folder = tmp_path_factory.mktemp("subword_translation")
    names = {split: (f"{split}.src", f"{split}.tgt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(folder, names, lambda words: " ".join(reversed(words)).title() + ".")
    overrides = [
        "data.file_pattern={split}.{lang}",
        "data.src_lang=src",
        "data.tgt_lang=tgt",
        "data.valid=valid",
        "data.test=test",
        "data.subwords.vocab_size=40",
        *TINY_SEQ2SEQ,
    ]
    out = folder / "subword-translation"
    run_dir = api.train("translation", data_dir=data, out=out, overrides=overrides, show_progress=False)
    assert sorted(path.suffix for path in (run_dir / "vocab").iterdir()).count(".model") >= 1
    return run_dir


def described(results) -> list:
    """Predictions as plain JSON values, compared exactly (floats included)."""
    plain = [result.to_json() if hasattr(result, "to_json") else dataclasses.asdict(result) for result in results]
    return json.loads(json.dumps(plain))


@pytest.mark.parametrize("kind", sorted(PREDICTIONS))
def test_a_packed_model_predicts_exactly_as_its_run_dir(kind, request, tmp_path):
    predictor_name, fixture, ask = PREDICTIONS[kind]
    run_dir = request.getfixturevalue(fixture)
    predictor = PREDICTORS[predictor_name]
    packed = pack_run_dir(run_dir, tmp_path / f"{kind}.seqkit")
    with zipfile.ZipFile(packed) as archive:
        names = archive.namelist()
    assert "model.safetensors" in names and "config.yaml" in names and not any("checkpoint" in n for n in names)
    assert not any(name.endswith((".pt", ".pkl", ".bin")) for name in names)  # nothing that unpickles
    expected = described(ask(predictor.load(run_dir, "cpu")))
    assert described(ask(predictor.load(packed, "cpu"))) == expected
    assert described(ask(predictor.load(str(packed), "cpu"))) == expected


def test_packing_keeps_the_sentencepiece_models(subword_translation_run, tmp_path):
    packed = pack_run_dir(subword_translation_run, tmp_path / "translation.seqkit")
    models = sorted(path.name for path in (subword_translation_run / "vocab").glob("*.model"))
    with zipfile.ZipFile(packed) as archive:
        for name in models:
            assert archive.read(f"vocab/{name}") == (subword_translation_run / "vocab" / name).read_bytes()


def test_packing_twice_gives_the_same_bytes(tiny_tagger_run, tmp_path):
    first = pack_run_dir(tiny_tagger_run, tmp_path / "first.seqkit")
    second = pack_run_dir(tiny_tagger_run, tmp_path / "second.seqkit")
    assert first.read_bytes() == second.read_bytes()


def test_cli_packs_and_every_command_takes_the_file(tiny_tagger_run, tmp_path, monkeypatch):
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    packed = runner.invoke(app, ["pack", str(tiny_tagger_run)])
    assert packed.exit_code == 0, packed.output
    assert packed.output.strip() == "tiny-atis.seqkit" and (tmp_path / "tiny-atis.seqkit").is_file()
    from_run = runner.invoke(app, ["tag", str(tiny_tagger_run), "--json", *TAG_TEXTS])
    from_file = runner.invoke(app, ["tag", "tiny-atis.seqkit", "--json", *TAG_TEXTS])
    assert from_file.exit_code == 0, from_file.output
    assert from_file.output == from_run.output
    # evaluate scores the packed model exactly as the run dir, and writes nothing into the file.
    before = (tmp_path / "tiny-atis.seqkit").read_bytes()
    scores = api.evaluate(tmp_path / "tiny-atis.seqkit", "test", TINY_ATIS, "cpu")
    assert scores == api.evaluate(tiny_tagger_run, "test", TINY_ATIS, "cpu")
    assert (tmp_path / "tiny-atis.seqkit").read_bytes() == before


def write_hub_cache(cache: Path, repo_id: str, run_dir: Path) -> None:
    """The hub cache layout: models--owner--name/refs/main holds a commit hash, snapshots/<hash>/ the files."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    for name in ("config.yaml", "model.safetensors", "run.json", "vocab"):
        source = run_dir / name
        if source.is_dir():
            shutil.copytree(source, snapshot / name)
        else:
            snapshot.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, snapshot / name)


HUB_SCRIPT = """
import dataclasses, json, sys
from seqkit.errors import RunDirError
from seqkit.predict.registry import PREDICTORS
sys.path.insert(0, sys.argv[1])
from test_packed_models import PREDICTIONS, described
results = {}
for kind, (predictor_name, _, ask) in PREDICTIONS.items():
    results[kind] = described(ask(PREDICTORS[predictor_name].load(f"someone/{kind}", "cpu")))
try:
    PREDICTORS["Tagger"].load("someone/missing", "cpu")
except RunDirError as error:
    results["missing"] = str(error)
print(json.dumps(results))
"""


def test_hub_models_load_offline_from_the_cache_and_predict_as_their_run_dirs(request, tmp_path):
    expected = {}
    for kind, (predictor_name, fixture, ask) in PREDICTIONS.items():
        run_dir = request.getfixturevalue(fixture)
        write_hub_cache(tmp_path / "hub", f"someone/{kind}", run_dir)
        expected[kind] = described(ask(PREDICTORS[predictor_name].load(run_dir, "cpu")))
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-c", HUB_SCRIPT, str(Path(__file__).parent)]
    finished = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    results = json.loads(finished.stdout)
    missing = results.pop("missing")
    assert results == expected
    assert missing.startswith("someone/missing: ") and "\n" not in missing


def test_the_cli_loads_a_hub_model(tiny_tagger_run, tmp_path):
    write_hub_cache(tmp_path / "hub", "someone/tagger", tiny_tagger_run)
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "seqkit", "tag", "--json", "someone/tagger", *TAG_TEXTS]
    from_hub = subprocess.run(command, capture_output=True, text=True, env=environment)
    from_run = CliRunner().invoke(app, ["tag", "--json", str(tiny_tagger_run), *TAG_TEXTS])
    assert from_hub.returncode == 0, from_hub.stderr
    assert from_hub.stdout == from_run.output


def test_a_truncated_file_is_one_line_naming_it(tiny_tagger_run, tmp_path):
    packed = pack_run_dir(tiny_tagger_run, tmp_path / "model.seqkit")
    content = packed.read_bytes()
    truncated = tmp_path / "truncated.seqkit"
    truncated.write_bytes(content[: len(content) // 2])
    command = [sys.executable, "-m", "seqkit", "tag", str(truncated), "flights to denver"]
    finished = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert finished.returncode == 1
    assert finished.stderr.count("\n") == 1 and finished.stderr.startswith(f"error: {truncated}: ")
    for length in (0, 10, 100, len(content) - 1):
        truncated.write_bytes(content[:length])
        with pytest.raises(RunDirError, match=f"^{re.escape(str(truncated))}: "):
            resolve_run_dir(truncated)


def test_corrupted_weights_are_refused_naming_the_file(tiny_tagger_run, tmp_path):
    packed = pack_run_dir(tiny_tagger_run, tmp_path / "model.seqkit")
    with zipfile.ZipFile(packed) as archive:
        member = archive.getinfo("model.safetensors")
    content = bytearray(packed.read_bytes())
    # The member's data starts after its 30-byte local header, name and extra field; flip a byte well inside it.
    start = member.header_offset + 30 + len(member.filename) + len(member.extra)
    content[start + member.compress_size // 2] ^= 0xFF
    corrupted = tmp_path / "corrupted.seqkit"
    corrupted.write_bytes(bytes(content))
    with pytest.raises(RunDirError, match=f"^{re.escape(str(corrupted))}: not a readable packed seqkit model"):
        PREDICTORS["Tagger"].load(corrupted, "cpu")


@pytest.mark.parametrize("name", ["../escaped.json", "/tmp/escaped.json", "vocab/../../escaped.json", "notes.txt"])
def test_members_outside_the_run_dir_layout_are_refused(tiny_tagger_run, tmp_path, name):
    packed = pack_run_dir(tiny_tagger_run, tmp_path / "model.seqkit")
    hostile = tmp_path / "work" / "hostile.seqkit"
    hostile.parent.mkdir()
    shutil.copyfile(packed, hostile)
    with zipfile.ZipFile(hostile, "a") as archive:
        archive.writestr(name, "{}")
    with pytest.raises(RunDirError, match=f"^{re.escape(str(hostile))}: member .* is not part of a seqkit model"):
        resolve_run_dir(hostile)
    assert not (tmp_path / "escaped.json").exists() and not Path("/tmp/escaped.json").exists()


def test_a_zip_that_is_not_a_packed_model_is_refused(tmp_path):
    other = tmp_path / "other.seqkit"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("config.yaml", "task: slot-filling\n")
        archive.writestr("model.safetensors", b"")
    with pytest.raises(RunDirError, match=f"{MANIFEST} is missing"):
        resolve_run_dir(other)


def test_a_missing_path_that_is_no_repo_id_is_no_such_run_dir(tmp_path):
    with pytest.raises(RunDirError, match="no such run dir"):
        resolve_run_dir(tmp_path / "absent")
    with pytest.raises(RunDirError, match="no such run dir"):
        resolve_run_dir("owner/absent.seqkit")
