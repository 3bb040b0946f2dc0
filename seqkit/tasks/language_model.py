"""Language modelling: an RNN that predicts the next word of a sentence (the lecture's RNN language model).

The data is plain text, one sentence per line (gzipped when the name ends in .gz); by default the English side
of Multi30k. Each line is tokenized by the shared word tokenizer (lowercased unless `data.lowercase` is false);
blank lines are skipped. The lexicon is built from the training split, and every word outside it is read and
predicted as the "other" slot `<unk>`, so perplexity is over a closed vocabulary and `unknown_rate` says how
often the model was asked for `<unk>`.

A sentence `w1 .. wn` is read as `<s> w1 .. wn` by the shared input encoder and one left-to-right recurrent
layer, and the head predicts `w1 .. wn </s>` (seqkit/heads/language_model.py). Evaluation reports perplexity,
exp(mean negative log-likelihood per predicted token, the end mark included), and, as the dev metric that picks
the best epoch (the trainer keeps the highest), the mean log-likelihood per token: its negative logarithm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from seqkit.bounds import PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.batching import bucketed_order, collate, epoch_order
from seqkit.data.readers import read_lines
from seqkit.data.sources import check_split_files, resolve_dataset
from seqkit.encoders import featurize_tokens, lexicon_words, needed_features
from seqkit.errors import ConfigError, DataFormatError
from seqkit.heads.language_model import IGNORED, LanguageModelHead
from seqkit.tasks.base import HttpEndpoint
from seqkit.text.tokenize import word_tokenize
from seqkit.text.vocab import PAD, UNK, Vocab

START = "<s>"
END = "</s>"
# Scoring computes (B, T, V) log-probabilities at once; batches are cut to about this many of them (64 MiB).
LOGITS_PER_BATCH = 2**24
# The encoders that see a word's right-hand context would show the model the word it is asked to predict.
FUTURE_READING_ENCODERS = ("pretrained",)


@dataclass(frozen=True)
class Sentence:
    """One sentence's tokens and where it came from (`file:line`)."""

    tokens: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class LanguageModelData:
    """Where the plain-text files are and how their lines become tokens."""

    # Folder name under $SEQKIT_DATA_DIR (or --data DIR).
    dataset: str = setting("multi30k", pattern=PLAIN_FOLDER_NAME)
    # File names in that folder: one sentence per line, UTF-8, gzipped when the name ends in .gz.
    train: str = "train.en.gz"
    # The dev split, on which the best epoch is chosen (by log-likelihood).
    valid: str = "val.en.gz"
    # The test split, read only by `seqkit evaluate --split test`.
    test: str = "test_2016_flickr.en.gz"
    # Lowercase every line before tokenizing it (user text given to `score` and `sample` too).
    lowercase: bool = True
    # A line of more tokens is an error naming its file and line; null: no limit.
    max_tokens: int | None = setting(1000, minimum=1)


@dataclass(frozen=True)
class LanguageModelConfig:
    # Dropout on the recurrent states before the next-word scores, in training only.
    dropout: float = setting(0.3, minimum=0, below=1)


def perplexity(log_probabilities: list[float]) -> float:
    """exp(mean negative log-likelihood) of predictions with these natural-log probabilities."""
    if not log_probabilities:
        raise ValueError("perplexity of no predictions")
    return math.exp(-sum(log_probabilities) / len(log_probabilities))


class LanguageModelTask:
    name = "language-model"
    default_recipe = "language_model"
    data_config = LanguageModelData
    head_config = LanguageModelConfig
    metric = "log_likelihood"
    predictor = "LanguageModel"
    endpoint = HttpEndpoint("/score", "Score sentences (and, asked, continue them)", schema="scoring")
    exporter = None
    export_refusal = "a language model is scored and sampled word by word in Python; there is no ONNX export yet"
    demo_view = "scored"
    demo_placeholder = "a man in a blue shirt is"
    verbs = ("score", "sample")

    # ---- data -------------------------------------------------------------------------------------------
    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: LanguageModelData = recipe.data
        names = {"train": data.train, "valid": data.valid, "test": data.test}
        check_split_files({f"data.{split}": names[split] for split in splits})
        folder = resolve_dataset(data.dataset, sorted({names[split] for split in splits}), data_dir)
        return {split: self._read(folder / names[split], data) for split in splits}

    def _read(self, path: Path, data: LanguageModelData) -> list[Sentence]:
        sentences = []
        for number, line in enumerate(read_lines(path), start=1):
            tokens = word_tokenize(line, lowercase=data.lowercase)
            if not tokens:
                continue  # a blank line separates nothing here: sentences are lines
            if data.max_tokens is not None and len(tokens) > data.max_tokens:
                raise DataFormatError(path, number, f"{len(tokens)} tokens, over data.max_tokens={data.max_tokens}")
            sentences.append(Sentence(tuple(tokens), f"{path}:{number}"))
        if not sentences:
            raise DataFormatError(path, None, "no sentence in the file")
        return sentences

    def tokenize(self, recipe: Recipe, text: str) -> list[str]:
        """The tokens of user text, as the training lines were tokenized."""
        return word_tokenize(text, lowercase=recipe.data.lowercase)

    # ---- vocabularies and features ----------------------------------------------------------------------
    def build_vocabularies(self, recipe: Recipe, train: list[Sentence]) -> dict[str, Vocab]:
        words = (lexicon_words(s.tokens, recipe.encoder.lowercase_words) for s in train)
        specials = (PAD, UNK, START, END)
        return {"words": Vocab.build(words, recipe.encoder.min_freq, recipe.encoder.max_vocab_size, specials)}

    def featurize(self, recipe: Recipe, vocabularies: dict[str, Vocab], tokens: list[str], targets: bool) -> dict:
        """`<s> w1 .. wn` as the encoder's features and, with `targets`, `w1 .. wn </s>` as "next"."""
        encoder = recipe.encoder
        words = vocabularies["words"]
        features = featurize_tokens(
            [START, *tokens],
            words,
            needed_features(encoder),
            encoder.hash_buckets,
            encoder.bigram_buckets,
            encoder.lowercase_words,
            encoder.pretrained_model,
            encoder.character_buckets,
            encoder.character_limit,
        )
        if targets:
            features["next"] = words.ids(lexicon_words([*tokens, END], encoder.lowercase_words))
        return features

    def training_batches(self, recipe: Recipe, vocabularies: dict[str, Vocab], train: list[Sentence]):
        """A function epoch -> list of batches, featurized once, reshuffled per epoch from the seed."""
        featurized = [self.featurize(recipe, vocabularies, list(s.tokens), targets=True) for s in train]
        lengths = [len(s.tokens) + 1 for s in train]

        def batches_for_epoch(epoch: int) -> list[dict[str, torch.Tensor]]:
            order = epoch_order(lengths, recipe.train, recipe.seed, epoch)
            return [collate([featurized[i] for i in indices], {"next": IGNORED}) for indices in order]

        return batches_for_epoch

    # ---- model ------------------------------------------------------------------------------------------
    def build_head(self, recipe: Recipe, vocabularies: dict[str, Vocab], input_size: int) -> LanguageModelHead:
        from seqkit.layers.rnn import build_recurrent_layer

        if recipe.rnn.bidirectional:
            raise ConfigError("rnn.bidirectional: a language model reads left to right; set rnn.bidirectional=false")
        for name in FUTURE_READING_ENCODERS:
            if name in recipe.encoder.features:
                raise ConfigError(
                    f"encoder.features: {name!r} reads the words to come, which a language model "
                    "must predict; leave it out"
                )
        rnn = build_recurrent_layer(recipe.rnn, input_size)
        return LanguageModelHead(rnn, len(vocabularies["words"]), recipe.head.dropout)

    # ---- prediction and scoring -------------------------------------------------------------------------
    @torch.inference_mode()
    def log_probabilities(
        self, model, recipe: Recipe, vocabularies: dict[str, Vocab], token_lists: list[list[str]]
    ) -> list[list[float]]:
        """Per sentence, the natural-log probability of each of its words and then of its end, in order."""
        if model.training:
            model.eval()
        featurized = [self.featurize(recipe, vocabularies, tokens, targets=True) for tokens in token_lists]
        lengths = [len(tokens) + 1 for tokens in token_lists]
        budget = max(1, LOGITS_PER_BATCH // len(vocabularies["words"]))
        results: list[list[float]] = [[] for _ in token_lists]
        for indices in bucketed_order(lengths, batch_size=len(lengths), max_tokens=budget):
            batch = collate([featurized[i] for i in indices], {"next": IGNORED})
            targets = batch.pop("next")  # (B, T)
            logits = model(batch).logits  # (B, T, V)
            chosen = logits.log_softmax(dim=-1).gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T)
            for row, index in enumerate(indices):
                results[index] = chosen[row, : lengths[index]].tolist()
        return results

    @torch.inference_mode()
    def sample(
        self,
        model,
        recipe: Recipe,
        vocabularies: dict[str, Vocab],
        prompt: list[str],
        words: int,
        temperature: float,
        generator: torch.Generator,
    ) -> tuple[list[str], bool]:
        """Up to `words` words drawn one at a time after `prompt`, and whether the end of the sentence was drawn
        before that. The prompt and the words so far are read again at each step (sentences are short)."""
        if model.training:
            model.eval()
        vocabulary = vocabularies["words"]
        # Never drawn: padding, the start mark, and the "other" slot, which names no word.
        banned = torch.tensor([vocabulary.pad_id, vocabulary.id(START), vocabulary.unknown_id])
        drawn: list[str] = []
        for _ in range(words):
            batch = collate([self.featurize(recipe, vocabularies, [*prompt, *drawn], targets=False)])
            scores = model(batch).logits[0, -1] / temperature  # (V,)
            scores[banned] = -math.inf
            choice = int(torch.multinomial(scores.softmax(dim=-1), 1, generator=generator))
            if choice == vocabulary.id(END):
                return drawn, True
            drawn.append(vocabulary.token(choice))
        return drawn, False

    def evaluate(self, model, recipe: Recipe, vocabularies: dict[str, Vocab], sentences: list[Sentence]) -> dict:
        token_lists = [list(s.tokens) for s in sentences]
        found = self.log_probabilities(model, recipe, vocabularies, token_lists)
        flat = [value for sentence in found for value in sentence]
        words = vocabularies["words"]
        lowercase = recipe.encoder.lowercase_words
        unknown = sum(word not in words for tokens in token_lists for word in lexicon_words(tokens, lowercase))
        return {
            "log_likelihood": sum(flat) / len(flat),
            "perplexity": perplexity(flat),
            "unknown_rate": unknown / len(flat),
            "predictions": len(flat),
            "sentences": len(sentences),
        }
