"""ONNX export of the tagger: numpy Viterbi against the CRF's, the CLI, and on real ATIS every test item's
tags and intent from onnxruntime equal PyTorch's."""

import json
import os

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from seqkit import Tagger, api
from seqkit.cli import app
from seqkit.export import export_onnx
from seqkit.export.tagger import GRAPH, OnnxTagger, viterbi
from seqkit.layers.crf import CRF

from conftest import TINY_ATIS, write_recipe


def test_numpy_viterbi_equals_the_crf_decoder():
    torch.manual_seed(0)
    crf = CRF(5)
    emissions = torch.randn(4, 7, 5)
    expected = crf.decode(emissions, torch.ones(4, 7, dtype=torch.bool))
    found = viterbi(emissions.numpy(), crf.start.detach().numpy(), crf.end.detach().numpy(),
                    crf.transitions.detach().numpy())
    assert found.tolist() == expected


def test_the_cli_exports_and_the_export_tags_like_pytorch(tiny_tagger_run, tmp_path):
    result = CliRunner().invoke(app, ["export", str(tiny_tagger_run), "--format", "onnx", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / GRAPH).stat().st_size > 0
    texts = ["show me flights from boston to denver", "fares to oslo on monday", "what airlines fly to rome"]
    assert_same_predictions(Tagger.load(tiny_tagger_run).tag(texts), OnnxTagger(tmp_path).tag(texts))


def test_an_unknown_format_is_refused(tiny_tagger_run):
    result = CliRunner().invoke(app, ["export", str(tiny_tagger_run), "--format", "tflite"])
    assert result.exit_code != 0 and "unknown export format" in str(result.exception)


def assert_same_predictions(expected, found):
    assert [(r.tokens, r.tags, r.spans, r.intent) for r in found] == [
        (r.tokens, r.tags, r.spans, r.intent) for r in expected
    ]
    assert np.allclose([r.intent_probability for r in found], [r.intent_probability for r in expected], atol=1e-5)


@pytest.mark.slow
def test_onnx_equals_pytorch_on_every_atis_test_item(tmp_path):
    if not os.environ.get("SEQKIT_DATA_DIR"):
        pytest.fail("SEQKIT_DATA_DIR must point at the shared benchmark data (see README)")
    overrides = ["train.epochs=2", "train.threads=1", "encoder.embedding_size=32", "encoder.hash_size=32",
                 "rnn.hidden_size=32"]
    # The default recipe's pretrained encoder does not export; the same model without it does.
    run_dir = api.train("slot-filling", "atis_scratch", out=tmp_path / "run", overrides=overrides, show_progress=False)
    recipe, vocabularies, model = __import__("seqkit.run_dirs.run_dir", fromlist=["load_run"]).load_run(run_dir)
    from seqkit.tasks import get_task

    task = get_task("slot-filling")
    sentences = task.load_splits(recipe, None, ("test",))["test"]
    token_lists = [list(sentence.tokens) for sentence in sentences]
    assert len(token_lists) == 893
    expected = task.predict(model, recipe, vocabularies, token_lists)
    found = OnnxTagger(export_onnx(run_dir)).predict(token_lists)
    assert [(p["tags"], p["intent"]) for p in found] == [(p["tags"], p["intent"]) for p in expected]
    gaps = [abs(a["intent_probability"] - b["intent_probability"]) for a, b in zip(found, expected, strict=True)]
    assert max(gaps) < 1e-5
    # The model learned something, so the equality is not between two constant taggers.
    assert json.loads((run_dir / "metrics.json").read_text())["dev"]["slot_f1"] > 25


def test_a_tagger_with_word_shapes_and_lowercased_words_exports_and_tags_like_pytorch(tmp_path):
    encoder = {"features": ["embedding", "word_hash", "word_shape"], "shape_size": 4, "lowercase_words": True}
    recipe = write_recipe(tmp_path, data={"lowercase": False}, encoder=encoder)
    run_dir = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    folder = export_onnx(run_dir, tmp_path / "export")
    assert OnnxTagger(folder).inputs == ["words", "shapes", "trigrams"]
    texts = ["Show me flights from BOSTON to Denver", "fares to OSLO on monday 12", "What airlines fly to Rome"]
    assert_same_predictions(Tagger.load(run_dir).tag(texts), OnnxTagger(folder).tag(texts))


def test_a_tagger_reading_characters_exports_and_tags_like_pytorch(tmp_path):
    # Words of other lengths than the traced example's, and a word over the character limit (cut at export too).
    encoder = {"features": ["embedding", "characters"], "character_size": 4, "character_filters": 6,
               "character_limit": 6, "lowercase_words": True}
    recipe = write_recipe(tmp_path, data={"lowercase": False}, encoder=encoder)
    run_dir = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    folder = export_onnx(run_dir, tmp_path / "export")
    assert OnnxTagger(folder).inputs == ["words", "characters"]
    texts = ["Show me flights from BOSTON to Denver", "fares to OSLO on monday 12", "Which airlines fly to Rome"]
    assert_same_predictions(Tagger.load(run_dir).tag(texts), OnnxTagger(folder).tag(texts))
