"""int8 dynamic quantization at load time: the quantized model predicts and mostly agrees with the float one."""

import pytest
import torch
from typer.testing import CliRunner

from seqkit import api
from seqkit.cli import app
from seqkit.data.parallel import TextPair
from seqkit.data.readers import read_atis_split
from seqkit.errors import ConfigError
from seqkit.model import build_model
from seqkit.predict.tagger import Tagger
from seqkit.runtime.quantization import quantize
from seqkit.tasks import generation

from conftest import DATA, TINY_ATIS, write_recipe


def is_int8(module: torch.nn.Module) -> bool:
    return type(module).__module__.startswith("torch.ao.nn.quantized.dynamic")


@pytest.fixture(scope="module")
def tagger_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("quantize")
    recipe = write_recipe(folder, train={"epochs": 12})
    return api.train(None, recipe, data_dir=DATA / "tiny_atis", out=folder / "run", show_progress=False)


def test_quantized_tagger_uses_int8_layers_and_agrees_with_float(tagger_run):
    float_tagger = Tagger.load(tagger_run)
    int8_tagger = Tagger.load(tagger_run, quantize="int8")
    assert is_int8(int8_tagger.model.head.context.rnn) and is_int8(int8_tagger.model.head.slot_output)
    assert not is_int8(float_tagger.model.head.context.rnn)
    texts = [" ".join(sentence.tokens) for sentence in read_atis_split(TINY_ATIS / "train")]
    expected, found = float_tagger.tag(texts), int8_tagger.tag(texts)
    tags = [(a, b) for x, y in zip(expected, found, strict=True) for a, b in zip(x.tags, y.tags, strict=True)]
    assert sum(a == b for a, b in tags) >= 0.9 * len(tags)
    same_intent = sum(x.intent == y.intent for x, y in zip(expected, found, strict=True))
    assert same_intent >= 0.9 * len(texts)


def test_cli_tag_quantizes_and_rejects_an_unknown_scheme(tagger_run):
    runner = CliRunner()
    result = runner.invoke(app, ["tag", str(tagger_run), "show flights to boston", "--quantize", "int8"])
    assert result.exit_code == 0, result.output
    assert "show/" in result.output
    with pytest.raises(ConfigError, match="--quantize: unknown quantization 'int4'"):
        Tagger.load(tagger_run, quantize="int4")


def test_quantized_encoder_decoder_keeps_its_scores_close_and_generates():
    overrides = [
        "data.subwords.vocab_size=null", "encoder.embedding_size=16", "rnn.hidden_size=16",
        "head.embedding_size=16", "head.hidden_size=24", "head.tie_embeddings=false",
    ]
    recipe = api.load_recipe("translation", "multi30k_de_en", overrides)
    sources = ["ein hund läuft", "zwei kinder spielen im park", "eine frau liest"]
    pairs = [TextPair(source, source) for source in sources]
    vocabularies = generation.build_vocabularies(recipe, pairs)
    torch.manual_seed(0)
    model = build_model(recipe, vocabularies).eval()
    int8 = quantize(model, "int8")  # a converted copy: `model` stays float
    assert is_int8(int8.head.decoder) and is_int8(int8.head.encoder.rnn) and is_int8(int8.head.output)
    assert type(model.head.decoder) is torch.nn.GRU
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    with torch.inference_mode():
        difference = (model(batch).logits - int8(batch).logits).abs().max()
    assert float(difference) < 0.05
    outputs = generation.generate(int8, recipe, vocabularies, sources, beam=2)
    assert len(outputs) == 3 and all(isinstance(found[0].text, str) for found in outputs)
