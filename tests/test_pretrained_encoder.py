"""The pretrained encoder: word pieces per word, contextual word vectors that do not depend on the batch, the
memory of encoded sentences, and a run dir that neither saves nor trains the frozen transformer.

A tiny BERT with random weights and a word-piece lexicon of a few dozen entries is written by a fixture
(conftest.py), so nothing is downloaded; what is checked is the plumbing, which is the same for any BERT-style model."""

import json
from pathlib import Path

import pytest
import torch
import transformers  # the dev extra installs it

from seqkit import api
from seqkit.data.batching import collate
from seqkit.data.readers import read_atis_split
from seqkit.encoders.pretrained import PretrainedEncoder, word_pieces
from seqkit.errors import ConfigError, InputError, RunDirError
from seqkit.predict.tagger import Tagger

from conftest import TINY_ATIS, write_recipe


def reference_vectors(name: str, tokens: list[str], layers: int = 1) -> torch.Tensor:
    """The transformer read directly on [CLS] pieces [SEP], each word the mean of its pieces in the mean of the
    last `layers` layers: (T, D)."""
    tokenizer = transformers.AutoTokenizer.from_pretrained(name)
    model = transformers.AutoModel.from_pretrained(name).eval()
    encoded = tokenizer(tokens, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded, output_hidden_states=True).hidden_states  # layers + 1 x (1, P + 2, D)
        states = sum(hidden[-layers:])[0] / layers  # (P + 2, D)
    word_of_piece = encoded.word_ids(0)
    return torch.stack(
        [states[[p for p, w in enumerate(word_of_piece) if w == word]].mean(dim=0) for word in range(len(tokens))]
    )


def batch_of(name: str, sentences: list[list[str]]) -> dict[str, torch.Tensor]:
    return collate([{"words": [1] * len(tokens), "pieces": word_pieces(tokens, name)} for tokens in sentences])


def test_word_pieces_are_grouped_per_word_and_shifted_past_padding(tiny_bert):
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    pieces = word_pieces(["Flights", "to", "bonn"], tiny_bert)
    # "flights" is a word of the lexicon; "bonn" is spelled out in letters: b ##o ##n ##n.
    assert pieces[0] == [tokenizer.convert_tokens_to_ids("flights") + 1]
    assert pieces[1] == [tokenizer.convert_tokens_to_ids("to") + 1]
    assert pieces[2] == [tokenizer.convert_tokens_to_ids(p) + 1 for p in ("b", "##o", "##n", "##n")]
    # A token the tokenizer drops entirely still gets a piece, the unknown one.
    assert word_pieces(["to", "\u200b"], tiny_bert)[1] == [tokenizer.unk_token_id + 1]


def test_a_sentence_longer_than_the_model_reads_is_an_input_error(tiny_bert):
    with pytest.raises(InputError, match="600 tokens make 600 word pieces"):
        word_pieces(["to"] * 600, tiny_bert)


def test_an_overlong_training_sentence_is_an_error_naming_the_split_and_sentence(tiny_bert, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(TINY_ATIS, data)
    with open(data / "train" / "seq.in", "a") as words, open(data / "train" / "seq.out", "a") as tags:
        words.write(" ".join(["to"] * 600) + "\n")
        tags.write(" ".join(["O"] * 600) + "\n")
    with open(data / "train" / "label", "a") as labels:
        labels.write("atis_flight\n")
    recipe = write_recipe(tmp_path, encoder={"features": ["embedding", "pretrained"], "pretrained_model": tiny_bert})
    with pytest.raises(InputError, match=r"^data.train \(train\): sentence 17: 600 tokens make 600 word pieces"):
        api.train(None, recipe, data_dir=data, out=tmp_path / "run", show_progress=False)
    assert not (tmp_path / "run" / "model.safetensors").exists()  # no model claims to have trained


def test_word_vectors_match_the_transformer_read_directly_whatever_the_batch(tiny_bert):
    encoder = PretrainedEncoder(tiny_bert)
    sentences = [["flights", "to", "bonn", "on", "monday"], ["show", "fare"], ["xyzzy", "to", "rome"]]
    output = encoder(batch_of(tiny_bert, sentences)["pieces"])  # (3, 5, 16)
    assert output.shape == (3, 5, 16)
    for row, tokens in enumerate(sentences):
        torch.testing.assert_close(output[row, : len(tokens)], reference_vectors(tiny_bert, tokens), atol=1e-5, rtol=0)
        assert output[row, len(tokens) :].abs().sum() == 0  # padding words stay zero


def test_word_vectors_can_average_the_last_layers(tiny_bert):
    layers = transformers.AutoConfig.from_pretrained(tiny_bert).num_hidden_layers
    assert layers >= 2
    sentences = [["flights", "to", "bonn", "on", "monday"], ["show", "fare"]]
    averaged = PretrainedEncoder(tiny_bert, layers=2)(batch_of(tiny_bert, sentences)["pieces"])  # (2, 5, 16)
    last = PretrainedEncoder(tiny_bert)(batch_of(tiny_bert, sentences)["pieces"])
    for row, tokens in enumerate(sentences):
        expected = reference_vectors(tiny_bert, tokens, layers=2)
        torch.testing.assert_close(averaged[row, : len(tokens)], expected, atol=1e-5, rtol=0)
    assert not torch.allclose(averaged, last, atol=1e-3)  # the lower layer really enters
    with pytest.raises(ConfigError, match=rf"^encoder.pretrained_layers: .* has {layers} layers, got {layers + 1}$"):
        PretrainedEncoder(tiny_bert, layers=layers + 1)


def test_each_sentence_is_encoded_once_and_remembered(tiny_bert):
    encoder = PretrainedEncoder(tiny_bert)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tiny_bert)
    (transformer,) = encoder._transformer
    sentences_read = []
    transformer.register_forward_hook(
        lambda module, args, kwargs, output: sentences_read.append(
            [tokenizer.decode(row) for row in kwargs["input_ids"].tolist()]
        ),
        with_kwargs=True,
    )
    first = encoder(batch_of(tiny_bert, [["show", "flights"], ["to", "rome"]])["pieces"])
    # The same two sentences in another order and another padding width, plus a new one.
    second = encoder(batch_of(tiny_bert, [["to", "rome"], ["fare", "to", "bonn"], ["show", "flights"]])["pieces"])
    # Each sentence alone and unpadded; the second batch sent only its new sentence through the transformer.
    read = [["[CLS] show flights [SEP]"], ["[CLS] to rome [SEP]"], ["[CLS] fare to bonn [SEP]"]]
    assert sentences_read == read
    encoder.forget()
    encoder(batch_of(tiny_bert, [["to", "rome"]])["pieces"])
    assert sentences_read == [*read, ["[CLS] to rome [SEP]"]]  # forgotten: read again
    assert torch.equal(second[0, :2], first[1]) and torch.equal(second[2, :2], first[0])


def test_a_sentence_reads_to_the_same_floats_in_any_batch(tiny_bert):
    # Equal to the last bit, not close: an interrupted run resumes with an empty memory and reads in other batches
    # the sentences that the uninterrupted run remembered, and resume promises identical weights.
    sentences = [[token.lower() for token in sentence.tokens] for sentence in read_atis_split(TINY_ATIS / "train")]
    encoder = PretrainedEncoder(tiny_bert)
    alone = []
    for tokens in sentences:
        encoder.forget()
        alone.append(encoder(batch_of(tiny_bert, [tokens])["pieces"])[0, : len(tokens)])  # (T, D)
    for start in range(len(sentences)):  # each sentence first, then in every other row, beside other sentences
        encoder.forget()
        rows = [(start + offset) % len(sentences) for offset in range(0, 4 * 5, 5)]
        output = encoder(batch_of(tiny_bert, [sentences[index] for index in rows])["pieces"])  # (4, T, D)
        for row, index in enumerate(rows):
            assert torch.equal(output[row, : len(sentences[index])], alone[index]), sentences[index]


def test_the_transformer_is_frozen_and_not_part_of_the_saved_model(tiny_bert):
    encoder = PretrainedEncoder(tiny_bert)
    (transformer,) = encoder._transformer
    encoder.train()
    assert not transformer.training  # train() cannot switch its dropout on
    assert list(encoder.parameters()) == [] and list(encoder.state_dict()) == ["fingerprint"]
    assert not any(parameter.requires_grad for parameter in transformer.parameters())


def test_a_missing_model_is_a_config_error_naming_the_key(tmp_path):
    with pytest.raises(ConfigError, match="encoder.pretrained_model"):
        PretrainedEncoder(str(tmp_path / "no-such-model"))


def copy_of(folder: str, destination: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, destination))


def test_a_model_folder_that_brings_its_own_code_is_refused_before_any_of_it_runs(tiny_bert, tmp_path):
    # A run dir's config.yaml may name any folder; one whose config maps to its own Python module must not load.
    folder = copy_of(tiny_bert, tmp_path / "hostile")
    (folder / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"brings its own Python code \(auto_map in config.json\)"):
        PretrainedEncoder(str(folder))


def test_a_model_folder_of_an_architecture_transformers_lacks_is_a_config_error(tiny_bert, tmp_path):
    folder = copy_of(tiny_bert, tmp_path / "unknown")
    config = json.loads((folder / "config.json").read_text())
    config["model_type"] = "no-such-architecture"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="model_type 'no-such-architecture'"):
        PretrainedEncoder(str(folder))


def test_without_transformers_the_error_says_what_to_install(monkeypatch, tiny_bert):
    import sys

    monkeypatch.setitem(sys.modules, "transformers", None)  # what `import transformers` meets when it is absent
    with pytest.raises(ConfigError, match=r"needs transformers \(pip install 'seqkit\[pretrained\]'\)"):
        PretrainedEncoder(tiny_bert)


def test_a_tagger_trains_saves_and_loads_with_pretrained_features(tiny_bert, tmp_path):
    recipe = write_recipe(
        tmp_path,
        encoder={"features": ["embedding", "pretrained"], "embedding_size": 16, "pretrained_model": tiny_bert},
        train={"epochs": 15, "batch_size": 4, "learning_rate": 0.01, "schedule": "constant", "threads": 1},
    )
    run = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    from safetensors.torch import load_file

    saved = load_file(str(Path(run) / "model.safetensors"))
    pretrained_keys = [key for key in saved if key.startswith("encoder.encoders.pretrained.")]
    assert pretrained_keys == ["encoder.encoders.pretrained.fingerprint"]  # the frozen weights stay out
    tagger = Tagger.load(run)
    texts = ["show flights from paris to rome", "list flights from oslo to lima on monday"]
    first = tagger.tag(texts)
    again = Tagger.load(run).tag(texts)
    assert [t.tags for t in first] == [t.tags for t in again]
    assert [t.intent_probability for t in first] == pytest.approx([t.intent_probability for t in again], abs=1e-6)
    # The features reach the tagger: it fits the sixteen training sentences it saw.
    assert api.evaluate(run, split="train", data_dir=TINY_ATIS)["slot_f1"] > 80
    # ONNX export cannot carry the transformer or its tokenizer: a one-line refusal, and nothing written.
    from seqkit.export import export_onnx

    with pytest.raises(ConfigError, match="pretrained"):
        export_onnx(run, tmp_path / "export")
    assert not (tmp_path / "export").exists()


def test_validate_catches_the_pretrained_encoder_without_a_model():
    import subprocess
    import sys

    command = [sys.executable, "-m", "seqkit", "validate", "atis", "--set", "encoder.pretrained_model=null"]
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 1
    assert finished.stderr.strip() == (
        "error: encoder.pretrained_model: the pretrained encoder needs a model (a folder or a hub id)"
    )


def test_a_run_refuses_a_pretrained_model_whose_weights_changed(tiny_bert, tmp_path):
    import shutil

    model = tmp_path / "bert"
    shutil.copytree(tiny_bert, model)
    recipe = write_recipe(tmp_path, encoder={"features": ["embedding", "pretrained"], "pretrained_model": str(model)})
    run = api.train(
        None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", overrides=["train.epochs=1"], show_progress=False
    )
    changed = transformers.AutoModel.from_pretrained(model)
    with torch.no_grad():
        changed.embeddings.word_embeddings.weight[5] += 0.01
    changed.save_pretrained(model)
    with pytest.raises(RunDirError, match=r"encoder.pretrained_model: .* is not the model this run was trained with"):
        Tagger.load(run)


def test_int8_quantization_reaches_the_frozen_transformer(tiny_bert):
    from torch import nn
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear

    from seqkit.runtime.quantization import quantize

    encoder = PretrainedEncoder(tiny_bert)
    quantized = quantize(nn.ModuleList([encoder]), "int8")[0]
    assert any(isinstance(module, QuantizedLinear) for module in quantized.transformer.modules())
    assert not any(isinstance(module, QuantizedLinear) for module in encoder.transformer.modules())  # a copy
    pieces = batch_of(tiny_bert, [["flights", "to", "bonn", "on", "monday"], ["show", "fare"]])["pieces"]
    exact, approximate = encoder(pieces), quantized(pieces)
    assert not torch.equal(exact, approximate)  # read by the int8 copy, not from a memory shared with the float one
    assert (exact - approximate).abs().mean() < 0.1 * exact.abs().mean()
