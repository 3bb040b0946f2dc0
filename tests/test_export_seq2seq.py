"""ONNX export of seq2seq models: the encoder and decoder-step graphs, searched by seqkit.decoding in
onnxruntime, give the same outputs as PyTorch (greedy and beam, with an LSTM decoder and input feeding too);
copy attention is refused."""

import numpy as np
import pytest
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.errors import ConfigError
from seqkit.export import export_onnx
from seqkit.export.seq2seq import DECODER_STEP, ENCODER, OnnxGenerator
from seqkit.predict.generation import Translator

from conftest import TINY_SEQ2SEQ, write_animal_pairs

TEXTS = ["ant bee cat", "dog eel", "fox gnu hen ant bee", "cat", "hen hen", "eel fox gnu"]


def assert_same_outputs(expected, found):
    assert [[(g.text, g.tokens, g.source_tokens) for g in outputs] for outputs in found] == [
        [(g.text, g.tokens, g.source_tokens) for g in outputs] for outputs in expected
    ]
    for mine, theirs in zip(found, expected, strict=True):
        assert np.allclose([g.score for g in mine], [g.score for g in theirs], atol=1e-5)
        for one, other in zip(mine, theirs, strict=True):
            if other.attention is not None:
                assert np.allclose(one.attention.numpy(), other.attention.numpy(), atol=1e-5)


@pytest.mark.parametrize("beam", [1, 3])
def test_the_exported_translator_generates_like_pytorch(tiny_translation_run, tmp_path, beam):
    result = CliRunner().invoke(app, ["export", str(tiny_translation_run), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / ENCODER).is_file() and (tmp_path / DECODER_STEP).is_file()
    translator = Translator.load(tiny_translation_run)
    expected = translator.generator.generate(TEXTS, beam, beam, True, 4)
    assert_same_outputs(expected, OnnxGenerator(tmp_path).generate(TEXTS, beam, beam, True, batch_size=4))


def test_an_lstm_decoder_with_input_feeding_exports_too(tmp_path):
    names = {split: (f"{split}.src", f"{split}.tgt") for split in ("train", "valid", "test")}
    data = write_animal_pairs(tmp_path, names, lambda words: " ".join(reversed(words)))
    overrides = ["data.file_pattern={split}.{lang}", "data.src_lang=src", "data.tgt_lang=tgt", "data.valid=valid",
                 "data.test=test", "data.subwords.vocab_size=null", *TINY_SEQ2SEQ, "train.epochs=1",
                 "rnn.cell=lstm", "rnn.num_layers=2", "head.input_feeding=true", "head.num_layers=2",
                 "head.tie_embeddings=false", "head.attention=additive"]
    run_dir = api.train("translation", data_dir=data, out=tmp_path / "lstm", overrides=overrides, show_progress=False)
    expected = Translator.load(run_dir).generator.generate(TEXTS, 2, 2, True, 64)
    assert_same_outputs(expected, OnnxGenerator(export_onnx(run_dir)).generate(TEXTS, 2, 2, True))


def test_copy_attention_is_refused(tiny_title_run, tmp_path):
    with pytest.raises(ConfigError, match="copy attention cannot be exported"):
        export_onnx(tiny_title_run, tmp_path)
