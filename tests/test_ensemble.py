"""Ensembles at decode time: the mean of the members' probabilities, an ensemble of one model twice decoding as
that model, members with other vocabularies refused, and the CLI and API over two runs of one recipe."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from test_translation_cli import TOY_SETTINGS, pair_folder  # noqa: F401 (a fixture, used by name)
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.data.batching import collate
from seqkit.errors import RunDirError
from seqkit.predict.ensemble import Ensemble
from seqkit.predict.generation import Translator
from seqkit.run_dirs.run_dir import load_run
from seqkit.tasks.generation import featurize, generate, segmenters, tokenize

SETTINGS = [*TOY_SETTINGS, "head.beam=3"]


@pytest.fixture(scope="module")
def members(tmp_path_factory, pair_folder) -> list[Path]:  # noqa: F811
    """Two translators of one recipe and data, from other seeds."""
    root = tmp_path_factory.mktemp("members")
    return [
        api.train("translation", data_dir=pair_folder, out=root / f"seed{seed}", overrides=[*SETTINGS, f"seed={seed}"],
                  show_progress=False)
        for seed in (1, 2)
    ]


def first_step(searchable, vocabularies, texts):
    """The log-probabilities of the first target word for each text."""
    source_model, _ = segmenters(vocabularies)
    batch = collate([featurize(vocabularies, tokenize(text, source_model), None, False)[0] for text in texts])
    state = searchable.encode(batch)
    previous = torch.full((len(texts),), searchable.begin_id, dtype=torch.long)
    return searchable.decode_step(state, previous)[0]


def test_each_word_is_scored_by_the_mean_of_the_members_probabilities(members):
    from seqkit.heads.seq2seq import Searchable

    (_, vocabularies, first), (_, _, second) = load_run(members[0]), load_run(members[1])
    texts = ["ant bee cat", "dog eel"]
    with torch.inference_mode():
        ensemble = first_step(Ensemble([first, second]).searchable(), vocabularies, texts)
        own = [first_step(Searchable(model), vocabularies, texts) for model in (first, second)]
    expected = ((own[0].exp() + own[1].exp()) / 2).log()
    torch.testing.assert_close(ensemble, expected, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(own[0], own[1])  # the members differ, so the mean is not either one


def test_an_ensemble_of_one_model_twice_decodes_as_that_model(members):
    recipe, vocabularies, model = load_run(members[0])
    texts = ["ant bee cat", "gnu hen fox", "eel"]
    alone = generate(model, recipe, vocabularies, texts, beam=3, n_best=2)
    twice = generate(Ensemble([model, model]), recipe, vocabularies, texts, beam=3, n_best=2)
    assert [[found.tokens for found in outputs] for outputs in twice] == [[f.tokens for f in o] for o in alone]
    for outputs, own in zip(twice, alone, strict=True):
        assert [found.score for found in outputs] == pytest.approx([found.score for found in own], abs=1e-5)


def test_members_with_other_vocabularies_are_refused_naming_the_file(members, pair_folder, tmp_path):  # noqa: F811
    other = api.train("translation", data_dir=pair_folder, out=tmp_path / "other",
                      overrides=[*SETTINGS, "data.subwords.vocab_size=30", "train.epochs=1"], show_progress=False)
    with pytest.raises(RunDirError, match=r"vocab.*differs from .*ensemble members must share"):
        Translator.load(members[0], ensemble=[other])


def test_the_cli_evaluates_and_translates_with_an_ensemble(members, pair_folder):  # noqa: F811
    runner = CliRunner()
    arguments = ["evaluate", str(members[0]), "--data", str(pair_folder), "--ensemble", str(members[1]), "--json"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    stored = json.loads((members[0] / "metrics.json").read_text())["test ensemble"]
    assert stored == scores and stored["ensemble"] == [str(members[0]), str(members[1])]
    assert math.isfinite(scores["bleu"]) and scores["sentences"] == 10
    result = runner.invoke(app, ["translate", str(members[0]), "--ensemble", str(members[1])], input="ant bee cat\n")
    assert result.exit_code == 0, result.output
    expected = Translator.load(members[0], ensemble=[members[1]]).translate(["ant bee cat"])[0].text
    assert result.output.strip() == expected


def test_each_packed_member_is_unpacked_once(members, pair_folder, tmp_path, monkeypatch):  # noqa: F811
    """Evaluating and translating with packed members resolves each one once: the recipe, the weights and the
    vocabulary check all read the folder that one resolution gave."""
    from collections import Counter

    from seqkit.run_dirs import locate
    from seqkit.run_dirs.packing import pack_run_dir

    packed = [pack_run_dir(member, tmp_path / f"{member.name}.seqkit") for member in members]
    calls = Counter()
    unpack = locate.unpack

    def counted(path: Path) -> Path:
        calls[Path(path)] += 1
        return unpack(path)

    monkeypatch.setattr(locate, "unpack", counted)
    scores = api.evaluate(packed[0], data_dir=pair_folder, ensemble=[packed[1]])
    assert math.isfinite(scores["bleu"])
    assert calls == Counter(packed)
    calls.clear()
    Translator.load(packed[0], ensemble=[packed[1]])
    assert calls == Counter(packed)
