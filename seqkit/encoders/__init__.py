"""The shared input layer: every task turns tokens into vectors through these encoders.

`ENCODERS` names each one; a recipe lists one or several (`encoder.features: [embedding, word_hash]`) and their
outputs are concatenated. Each encoder reads one precomputed feature of the batch (`words`: (B, T) lexicon ids;
`trigrams`: (B, T, K) hashed letter-trigram ids; `bigrams`: (B, T) hashed word-bigram ids; `shapes`: (B, T)
spelling classes; `characters`: (B, T, K) hashed character ids; `pieces`: (B, T, K) a pretrained model's word
pieces), made once in the data pipeline by `featurize_tokens`. A builder gets the recipe's encoder settings, the
lexicon and the number of classes (None outside classification), which the naive Bayes ratios are counted per.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from seqkit.config import EncoderConfig
from seqkit.encoders.characters import CharacterEncoder, character_ids
from seqkit.encoders.embedding import EmbeddingEncoder
from seqkit.encoders.naive_bayes import NaiveBayesEncoder
from seqkit.encoders.one_hot import OneHotEncoder
from seqkit.encoders.pretrained import PretrainedEncoder, word_pieces
from seqkit.encoders.word_bigram import WordBigramEncoder, bigram_buckets
from seqkit.encoders.word_hash import WordHashEncoder, trigram_buckets
from seqkit.encoders.word_shape import WordShapeEncoder, word_shape
from seqkit.errors import ConfigError
from seqkit.registry import lookup
from seqkit.text.vocab import Vocab

# name -> (the batch feature it reads, builder(config, lexicon, classes))
ENCODERS: dict[str, tuple[str, Callable[[EncoderConfig, Vocab], nn.Module]]] = {
    "one_hot": (OneHotEncoder.feature, lambda config, vocab, classes: OneHotEncoder(len(vocab), vocab.pad_id)),
    "word_hash": (
        WordHashEncoder.feature,
        lambda config, vocab, classes: WordHashEncoder(config.hash_buckets, config.hash_size),
    ),
    "embedding": (
        EmbeddingEncoder.feature,
        lambda config, vocab, classes: EmbeddingEncoder(len(vocab), config.embedding_size, vocab.pad_id),
    ),
    "word_bigram": (
        WordBigramEncoder.feature,
        lambda config, vocab, classes: WordBigramEncoder(config.bigram_buckets, config.bigram_size),
    ),
    "word_shape": (WordShapeEncoder.feature, lambda config, vocab, classes: WordShapeEncoder(config.shape_size)),
    "characters": (
        CharacterEncoder.feature,
        lambda config, vocab, classes: CharacterEncoder(
            config.character_buckets, config.character_size, config.character_filters, config.character_width
        ),
    ),
    "pretrained": (
        PretrainedEncoder.feature,
        # EncoderConfig refuses the pretrained encoder without a model name, so it is set here.
        lambda config, vocab, classes: PretrainedEncoder(config.pretrained_model, config.pretrained_layers),
    ),
    "naive_bayes": (NaiveBayesEncoder.feature, lambda config, vocab, classes: _naive_bayes(config, vocab, classes)),
}


def _naive_bayes(config: EncoderConfig, vocab: Vocab, classes: int | None) -> NaiveBayesEncoder:
    if classes is None:
        raise ConfigError("encoder.features: naive_bayes counts its ratios per class; it serves classification only")
    order, smoothing = config.naive_bayes_order, config.naive_bayes_smoothing
    return NaiveBayesEncoder(config.naive_bayes_buckets, order, classes, vocab.pad_id, smoothing)


def needed_features(config: EncoderConfig) -> set[str]:
    """The batch features the configured encoders read; `words` always, since lengths come from it."""
    names = enumerate(config.features)
    return {"words"} | {lookup(ENCODERS, name, "encoder", f"encoder.features[{i}]")[0] for i, name in names}


class InputEncoder(nn.Module):
    """Concatenates the chosen encoders; applies word dropout (to `<unk>`) and dropout in training."""

    def __init__(
        self,
        encoders: dict[str, nn.Module],
        unknown_id: int,
        pad_id: int,
        word_dropout: float = 0.0,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not encoders:
            raise ValueError("at least one encoder is needed")
        self.encoders = nn.ModuleDict(encoders)
        self.unknown_id = unknown_id
        self.pad_id = pad_id
        self.word_dropout = word_dropout
        self.dropout = nn.Dropout(dropout)
        self.output_dim = sum(encoder.output_dim for encoder in encoders.values())

    @property
    def features(self) -> set[str]:
        return {encoder.feature for encoder in self.encoders.values()}

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """batch["words"] (B, T) and/or batch["trigrams"] (B, T, K) -> (B, T, D)."""
        inputs = dict(batch)
        if self.training and self.word_dropout > 0 and "words" in inputs:
            words = inputs["words"]
            # Replacing random words by <unk> teaches the "other" slot what unknown words look like.
            drop = (torch.rand(words.shape, device=words.device) < self.word_dropout) & (words != self.pad_id)
            inputs["words"] = words.masked_fill(drop, self.unknown_id)
        outputs = [encoder(inputs[encoder.feature]) for encoder in self.encoders.values()]
        return self.dropout(torch.cat(outputs, dim=-1))  # (B, T, D)


def build_input_encoder(config: EncoderConfig, vocab: Vocab, classes: int | None = None) -> InputEncoder:
    """The configured encoders over `vocab`; `classes` is the number of labels of a classification task."""
    encoders = {}
    for index, name in enumerate(config.features):
        if name in encoders:
            raise ValueError(f"encoder.features[{index}]: {name!r} is listed twice")
        _, builder = lookup(ENCODERS, name, "encoder", f"encoder.features[{index}]")
        encoders[name] = builder(config, vocab, classes)
    if config.embedding_init_std is not None:
        # The naive Bayes weights are a linear model's and start at zero (see its module).
        learned_vectors = [encoder for encoder in encoders.values() if not isinstance(encoder, NaiveBayesEncoder)]
        for module in nn.ModuleList(learned_vectors).modules():
            if isinstance(module, nn.Embedding):
                _initialize_embedding(module, config.embedding_init_std)
    return InputEncoder(encoders, vocab.unknown_id, vocab.pad_id, config.word_dropout, config.dropout)


def _initialize_embedding(embedding: nn.Embedding, std: float) -> None:
    with torch.no_grad():
        embedding.weight.normal_(0.0, std)
        if embedding.padding_idx is not None:
            embedding.weight[embedding.padding_idx].zero_()


def lexicon_words(tokens: Sequence[str], lowercase: bool) -> list[str]:
    """The words the lexicon reads: the tokens, lowercased under encoder.lowercase_words."""
    return [token.lower() for token in tokens] if lowercase else list(tokens)


def featurize_tokens(
    tokens: Sequence[str],
    vocab: Vocab,
    features: set[str],
    hash_buckets: int,
    bigram_buckets_count: int = 0,
    lowercase: bool = False,
    pretrained_model: str | None = None,
    character_buckets: int | None = None,
    character_limit: int | None = None,
) -> dict[str, list]:
    """One sentence's features as Python lists (collated into tensors per batch).

    With `lowercase` (encoder.lowercase_words), every feature but the word shape, the characters and the
    pretrained model's word pieces reads the lowercased words (the model's own tokenizer decides about case).
    The characters keep the case because it is much of what they tell a tagger: a capital starting a word that
    is not first in its sentence says "name" whatever the word, and the lowercased lexicon no longer can.
    `character_buckets` and `character_limit` (encoder.character_*) are needed when `characters` is."""
    featurized: dict[str, list] = {}
    words = lexicon_words(tokens, lowercase)
    if "words" in features:
        featurized["words"] = vocab.ids(words)
    if "trigrams" in features:
        featurized["trigrams"] = [trigram_buckets(word, hash_buckets) for word in words]
    if "bigrams" in features:
        featurized["bigrams"] = bigram_buckets(words, bigram_buckets_count)
    if "shapes" in features:
        featurized["shapes"] = [word_shape(token) for token in tokens]
    if "characters" in features:
        if character_buckets is None or character_limit is None:
            raise ValueError("the characters feature needs character_buckets and character_limit")
        featurized["characters"] = [character_ids(token, character_buckets, character_limit) for token in tokens]
    if "pieces" in features:
        featurized["pieces"] = word_pieces(tokens, pretrained_model)
    return featurized
