"""Contract tests run over every registered encoder, and the word-hashing specifics."""

import pytest
import torch

from seqkit.config import EncoderConfig
from seqkit.encoders import ENCODERS, build_input_encoder, featurize_tokens, lexicon_words, needed_features
from seqkit.encoders.word_hash import letter_trigrams, trigram_buckets
from seqkit.encoders.word_shape import SHAPES, word_shape
from seqkit.text.vocab import Vocab

VOCAB = Vocab.build([["show", "flights", "to", "boston"], ["flights", "from", "denver"]])
SENTENCES = [["show", "flights", "to", "boston"], ["flights", "from", "zurich"], ["to"]]


def make_batch(config: EncoderConfig, sentences=SENTENCES) -> dict:
    from seqkit.data.batching import collate

    features = needed_features(config)
    return collate(
        [
            featurize_tokens(
                s,
                VOCAB,
                features,
                config.hash_buckets,
                pretrained_model=config.pretrained_model,
                character_buckets=config.character_buckets,
                character_limit=config.character_limit,
            )
            for s in sentences
        ]
    )


def build(config: EncoderConfig):
    """The encoder as a two-class model would have it, its counted statistics (naive Bayes) read from SENTENCES."""
    encoder = build_input_encoder(config, VOCAB, classes=2)
    counters = [module for module in encoder.modules() if hasattr(module, "finish_counting")]
    for counter in counters:
        counter.count(make_batch(config)[counter.feature], torch.tensor([0, 1, 0]))
        counter.finish_counting()
    return encoder


@pytest.fixture(params=sorted(ENCODERS))
def config(request) -> EncoderConfig:
    # The pretrained encoder reads the tiny BERT that conftest.py writes.
    model = request.getfixturevalue("tiny_bert") if request.param == "pretrained" else None
    return EncoderConfig(
        features=(request.param,), embedding_size=8, hash_size=6, hash_buckets=64, pretrained_model=model
    )


def test_shape_and_output_dim(config):
    encoder = build(config)
    encoded = encoder(make_batch(config))
    assert encoded.shape == (3, 4, encoder.output_dim)
    assert torch.isfinite(encoded).all()


def test_padding_is_zero_and_does_not_change_real_positions(config):
    encoder = build(config).eval()
    batched = encoder(make_batch(config))
    alone = encoder(make_batch(config, [SENTENCES[2]]))
    assert torch.equal(batched[2, 1:], torch.zeros_like(batched[2, 1:]))
    assert torch.allclose(batched[2, :1], alone[0])


def test_batch_of_one_and_eval_determinism(config):
    encoder = build(config).eval()
    batch = make_batch(config, [SENTENCES[0]])
    assert torch.equal(encoder(batch), encoder(batch))


def test_gradients_reach_every_parameter(config):
    encoder = build(config)
    encoded = encoder(make_batch(config))
    if not list(encoder.parameters()):  # one_hot is a fixed encoding: nothing to learn, nothing to reach
        assert not encoded.requires_grad
        return
    encoded.sum().backward()
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_save_and_load_give_identical_outputs(config):
    first = build(config).eval()
    second = build(config).eval()
    second.load_state_dict(first.state_dict())
    batch = make_batch(config)
    assert torch.equal(first(batch), second(batch))


def test_encoders_concatenate():
    features = ("one_hot", "embedding", "word_hash")
    config = EncoderConfig(features=features, embedding_size=8, hash_size=6, hash_buckets=64)
    encoder = build_input_encoder(config, VOCAB)
    assert encoder.output_dim == len(VOCAB) + 8 + 6
    assert encoder(make_batch(config)).shape == (3, 4, len(VOCAB) + 14)


def test_one_hot_puts_unknown_words_in_the_other_slot():
    config = EncoderConfig(features=("one_hot",))
    encoded = build_input_encoder(config, VOCAB)(make_batch(config))
    zurich = encoded[1, 2]
    assert zurich.sum() == 1 and zurich[VOCAB.unknown_id] == 1


def test_letter_trigrams_as_in_dssm():
    assert letter_trigrams("boy") == ["#bo", "boy", "oy#"]
    assert letter_trigrams("a") == ["#a#"]


def test_unseen_word_gets_a_representation_close_to_its_relatives():
    buckets = 4096
    assert all(1 <= b < buckets for b in trigram_buckets("zurich", buckets))
    shared = set(trigram_buckets("bostonian", buckets)) & set(trigram_buckets("boston", buckets))
    assert len(shared) >= 5  # #bo, bos, ost, sto, ton
    config = EncoderConfig(features=("word_hash",), hash_buckets=buckets, hash_size=8)
    encoded = build_input_encoder(config, VOCAB)(make_batch(config, [["zurich"]]))
    assert encoded.abs().sum() > 0


def test_word_hash_vector_is_the_sum_of_its_trigram_rows_in_eager_and_exported_form(monkeypatch):
    from seqkit.encoders.word_hash import WordHashEncoder

    torch.manual_seed(0)
    encoder = WordHashEncoder(buckets=50, output_size=4)
    trigram_ids = torch.tensor([[[3, 7, 7, 0], [12, 0, 0, 0]], [[0, 0, 0, 0], [49, 1, 2, 3]]])  # (2, 2, 4)
    rows = encoder.embedding.weight
    expected = torch.stack(
        [
            torch.stack([rows[3] + 2 * rows[7], rows[12]]),
            torch.stack([torch.zeros(4), rows[49] + rows[1] + rows[2] + rows[3]]),
        ]
    )  # (2, 2, 4): a repeated trigram counts twice, padding (0) adds nothing
    assert torch.allclose(encoder(trigram_ids), expected, atol=1e-6)
    encoder(trigram_ids).sum().backward()
    assert encoder.embedding.weight.grad[7].eq(2).all() and encoder.embedding.weight.grad[0].eq(0).all()
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)  # the gather-and-sum form ONNX records
    assert torch.allclose(encoder(trigram_ids), expected, atol=1e-6)


def test_unknown_encoder_name_lists_the_choices():
    from seqkit.errors import ConfigError

    with pytest.raises(ConfigError, match=r"encoder.features\[0\]: unknown encoder 'glove' \(choose from"):
        build_input_encoder(EncoderConfig(features=("glove",)), VOCAB)


def test_word_dropout_only_in_training():
    config = EncoderConfig(features=("one_hot",), word_dropout=1.0)
    encoder = build_input_encoder(config, VOCAB)
    batch = make_batch(config)
    encoded = encoder.train()(batch)
    assert (encoded[0, :, VOCAB.unknown_id] == 1).all()  # every real word replaced by <unk>
    assert encoder.eval()(batch)[0, 0, VOCAB.id("show")] == 1


@pytest.mark.parametrize(
    ("word", "shape"),
    [
        ("house", "lower"),
        ("Peter", "capitalised"),
        ("U", "capitalised"),
        ("FIFA", "upper"),
        ("U.S.", "upper"),
        ("McDonald", "mixed"),
        ("1996", "digits"),
        ("1-0", "number"),
        ("F16", "alphanumeric"),
        (",", "punctuation"),
        ("Zürich", "capitalised"),
    ],
)
def test_word_shape_classes(word, shape):
    assert SHAPES[word_shape(word)] == shape


def test_unseen_names_share_the_shape_vector_of_seen_ones():
    config = EncoderConfig(features=("word_shape",), shape_size=4)
    encoder = build_input_encoder(config, VOCAB).eval()
    encoded = encoder(make_batch(config, [["Boston", "Zurich", "boston"]]))[0]  # (3, 4)
    assert torch.equal(encoded[0], encoded[1]) and not torch.equal(encoded[0], encoded[2])


def test_lowercase_words_share_word_and_trigram_ids_but_keep_their_shape():
    config = EncoderConfig(features=("embedding", "word_hash", "word_shape"), lowercase_words=True)
    vocab = Vocab.build([lexicon_words(["Japan", "beat", "CHINA"], config.lowercase_words)])
    assert "japan" in vocab.tokens and "Japan" not in vocab.tokens
    features = featurize_tokens(["JAPAN", "Japan", "japan"], vocab, needed_features(config), 64, lowercase=True)
    assert features["words"] == [vocab.id("japan")] * 3
    assert features["trigrams"][0] == features["trigrams"][1] == features["trigrams"][2]
    assert [SHAPES[shape] for shape in features["shapes"]] == ["upper", "capitalised", "lower"]
