"""The character encoder's specifics: hashing and the cap on characters, unseen words, padding characters."""

import torch

from seqkit.config import EncoderConfig
from seqkit.data.batching import collate
from seqkit.encoders import build_input_encoder, featurize_tokens, needed_features
from seqkit.encoders.characters import CharacterEncoder, character_ids
from seqkit.text.vocab import Vocab

VOCAB = Vocab.build([["peter", "lives", "in", "hamburg"]])
CONFIG = EncoderConfig(features=("characters",), character_buckets=50, character_size=5, character_filters=7)


def featurize(sentences: list[list[str]], config: EncoderConfig = CONFIG) -> dict:
    features = needed_features(config)
    return collate(
        [
            featurize_tokens(
                tokens,
                VOCAB,
                features,
                config.hash_buckets,
                lowercase=True,
                character_buckets=config.character_buckets,
                character_limit=config.character_limit,
            )
            for tokens in sentences
        ]
    )


def test_code_points_are_hashed_into_the_table_with_zero_left_for_padding():
    assert character_ids("ab", 100, 20) == [1 + 97 % 99, 1 + 98 % 99]
    # Any script: a code point past the table wraps around instead of being unknown.
    ids = character_ids("Łódź東京", 50, 20)
    assert len(ids) == 6 and all(1 <= index < 50 for index in ids)
    assert character_ids("Ł", 50, 20) == [1 + ord("Ł") % 49]


def test_the_cap_keeps_the_start_and_the_end_of_a_long_word():
    word = "Donaudampfschifffahrtsgesellschaft"  # 34 characters
    assert character_ids(word, 1000, 6) == character_ids("Donaft", 1000, 6)
    # An odd limit gives the extra character to the start.
    assert character_ids(word, 1000, 5) == character_ids("Donft", 1000, 5)
    assert character_ids("short", 1000, 6) == character_ids("short", 1000, 20)


def test_characters_keep_the_case_when_the_lexicon_lowercases():
    batch = featurize([["Peter", "PETER", "peter"]])
    assert batch["words"][0].tolist() == [VOCAB.id("peter")] * 3
    characters = batch["characters"][0]  # (T, K)
    assert len({tuple(row.tolist()) for row in characters}) == 3


def test_an_unseen_word_that_shares_spelling_with_a_seen_one_gets_its_vector_from_the_characters():
    torch.manual_seed(0)
    config = EncoderConfig(features=("characters",), character_buckets=50, character_size=5, character_filters=30)
    encoder = build_input_encoder(config, VOCAB).eval()
    # `Hamburger` is not in the lexicon; the characters still give it a vector, in part `Hamburg`'s own: a filter
    # whose largest response lies within `Hambur` gives both words the same value (over 50 seeds, 13 of the 30
    # filters at least), while `xyz` shares none of them.
    batch = featurize([["Hamburg", "Hamburger", "xyz"]], config)
    assert VOCAB.id("hamburger") == VOCAB.unknown_id
    vectors = encoder(batch)[0]  # (T, F)
    assert vectors.abs().sum(dim=1).gt(0).all()
    assert (vectors[0] == vectors[1]).sum() >= 10
    assert (vectors[0] == vectors[2]).sum() == 0


def test_padding_characters_do_not_change_a_word_s_vector():
    torch.manual_seed(0)
    encoder = CharacterEncoder(buckets=50, character_size=5, filters=7, width=3).eval()
    word = torch.tensor([[[12, 30, 7]]])  # (1, 1, 3)
    padded = torch.tensor([[[12, 30, 7, 0, 0, 0, 0, 0]]])  # (1, 1, 8): the same word in a batch of longer ones
    assert torch.equal(encoder(word), encoder(padded))
    # Padding wins no filter's maximum: every response over only the padding is the bias, which is made the largest.
    with torch.no_grad():
        encoder.convolution.bias.fill_(100.0)
    assert torch.equal(encoder(word), encoder(padded))
    assert encoder(torch.zeros(1, 2, 4, dtype=torch.long)).eq(0).all()


def test_an_even_width_gives_one_response_per_character_too():
    encoder = CharacterEncoder(buckets=50, character_size=5, filters=7, width=4).eval()
    ids = torch.tensor([[[3, 4, 5, 6, 7], [8, 9, 0, 0, 0]]])  # (1, 2, 5)
    encoded = encoder(ids)  # (1, 2, 7)
    assert encoded.shape == (1, 2, 7)
    assert torch.equal(encoded[0, 1], encoder(torch.tensor([[[8, 9]]]))[0, 0])
