"""ONNX export of the sentiment classifier: the bag of n-grams and the text CNN give onnxruntime the same labels and
probabilities as PyTorch, through the CLI and the Python API; recurrent classifiers are refused."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError
from seqkit.export import export_onnx
from seqkit.export.classifier import GRAPH, OnnxClassifier
from seqkit.predict.classifier import Classifier

DATA = Path(__file__).parent / "data" / "my_texts"
TEXTS = [
    "A warm, funny and moving film.",
    "Dull<br />and far too long.",
    "great",  # one word: shorter than the text CNN's widest filter
    "not good, not bad, and the cast tries hard but the script is lost; " * 6,
]


def train(tmp_path: Path, name: str, *overrides: str) -> Path:
    sets = ["train.epochs=2", "train.threads=1", *overrides]
    return api.train("sentiment", "my_texts", data_dir=DATA, out=tmp_path / name, overrides=sets, show_progress=False)


def assert_same_classifications(expected, found):
    assert [(r.text, r.label) for r in found] == [(r.text, r.label) for r in expected]
    for mine, theirs in zip(found, expected, strict=True):
        assert list(mine.probabilities) == list(theirs.probabilities)
        assert np.allclose(list(mine.probabilities.values()), list(theirs.probabilities.values()), atol=1e-5)


def test_the_cli_exports_the_bag_of_ngrams_and_it_classifies_like_pytorch(tmp_path):
    run_dir = train(tmp_path, "bag", "encoder.features=[embedding,word_bigram,word_hash]")
    result = CliRunner().invoke(app, ["export", str(run_dir), "--format", "onnx", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / GRAPH).stat().st_size > 0
    exported = OnnxClassifier(tmp_path / "out")
    assert exported.inputs == ["bigrams", "trigrams", "words", "lengths"]
    assert_same_classifications(Classifier.load(run_dir).classify(TEXTS), exported.classify(TEXTS))


def test_the_text_cnn_exports_and_pads_short_batches_to_its_widest_filter(tmp_path):
    run_dir = train(tmp_path, "cnn", "head.context=cnn", "head.pooling=max", "head.cnn_widths=[2,4]",
                    "head.cnn_channels=8", "data.max_tokens=30")
    exported = OnnxClassifier(export_onnx(run_dir))
    assert exported.minimum_length == 4
    expected = Classifier.load(run_dir).classify(TEXTS)
    assert_same_classifications(expected, exported.classify(TEXTS))
    assert_same_classifications(expected[2:3], exported.classify(TEXTS[2:3]))  # a batch of one 1-word text


def test_a_classifier_reading_characters_exports_and_classifies_like_pytorch(tmp_path):
    run_dir = train(tmp_path, "characters", "encoder.features=[embedding,characters]", "encoder.character_filters=8")
    exported = OnnxClassifier(export_onnx(run_dir))
    assert exported.inputs == ["characters", "words", "lengths"]
    assert_same_classifications(Classifier.load(run_dir).classify(TEXTS), exported.classify(TEXTS))


def test_a_recurrent_classifier_is_refused_in_one_line(tmp_path):
    run_dir = train(tmp_path, "rnn", "head.context=rnn", "train.epochs=1", "rnn.hidden_size=8")
    with pytest.raises(ConfigError, match="recurrent classifiers cannot be exported"):
        export_onnx(run_dir)
