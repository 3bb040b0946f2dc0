"""Sentiment analysis (document classification): IMDB, or any labelled texts in JSONL, TSV or CSV.

Reviews are cleaned (IMDB's `<br />` line breaks become spaces), tokenized with the shared word tokenizer,
optionally cut to `data.max_tokens` (head, tail or head+tail; the cut is reported once per split, not per
review), and featurized once. Training batches group reviews of similar length, and the recurrent layer runs
on packed sequences, so padding costs little. IMDB has no dev split: when `data.valid` is null, a fixed
fraction of the training file is held out (the same reviews for every seed) and the test file is only read
by `seqkit evaluate`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from seqkit.bounds import MAX_WIDTH, PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.batching import bucketed_order, collate, epoch_order
from seqkit.data.labelled_text import LabelledText, read_labelled_texts
from seqkit.data.sources import check_split_files, resolve_dataset
from seqkit.encoders import featurize_tokens, lexicon_words, needed_features
from seqkit.errors import ConfigError, DataFormatError, InputError
from seqkit.heads.classifier import POOLINGS, ClassifierHead
from seqkit.metrics import accuracy
from seqkit.tasks.base import HttpEndpoint
from seqkit.tasks.text_length_settings import AUTO, settle_dropout
from seqkit.text.tokenize import word_tokenize
from seqkit.text.truncate import SIDES, TruncationReport, truncate
from seqkit.text.vocab import Vocab

_MARKUP = re.compile(r"<br\s*/?>", re.IGNORECASE)
# The held-out dev split is drawn with this seed, not the recipe's, so runs with other seeds compare on it.
HOLD_OUT_SEED = 20110619


@dataclass(frozen=True)
class SentimentData:
    """Where the labelled texts are, their fields, and how documents are cleaned and cut."""

    # Folder name under $SEQKIT_DATA_DIR (or --data DIR).
    dataset: str = setting("imdb", pattern=PLAIN_FOLDER_NAME)
    # File names in that folder; the format (jsonl, tsv, csv, optionally .gz) comes from the name.
    train: str = "train.jsonl.gz"
    # null: hold out `valid_fraction` of the training file as the dev split.
    valid: str | None = None
    # The test file, read only by `seqkit evaluate --split test`.
    test: str = "test.jsonl.gz"
    # The share of the training file held out as dev when `valid` is null (the same records for every seed).
    valid_fraction: float = setting(0.1, above=0, below=1)
    # The field (jsonl) or column header (tsv, csv) holding the text.
    text_field: str = "text"
    # The field or column holding the label; each distinct value is a class.
    label_field: str = "label"
    # Lowercase every text before tokenizing it.
    lowercase: bool = True
    # Turn HTML line breaks (`<br />`, as in IMDB) into spaces before tokenizing.
    remove_markup: bool = True
    # Documents longer than this many tokens are cut (null keeps all); `truncate` says which part stays.
    max_tokens: int | None = setting(None, minimum=1)
    truncate: str = setting("head+tail", choices=SIDES, kind="side")


@dataclass(frozen=True)
class ClassifierConfig:
    # "rnn" (the recurrent layer of the `rnn:` section), "cnn" (Kim's text CNN) or "none" (bag of n-grams).
    context: str = setting("rnn", choices=("rnn", "cnn", "none"), kind="context")
    # last | mean | sum | max | attention (the CNN always pools by max).
    pooling: str = setting("max", choices=POOLINGS, kind="pooling")
    # The hidden width of attention pooling's scorer.
    attention_size: int = setting(100, minimum=1, maximum=MAX_WIDTH)
    # The text CNN's filter widths in words, one bank of filters per width.
    cnn_widths: tuple[int, ...] = setting((3, 4, 5), minimum=1, maximum=1000)
    # Filters per width; the pooled document vector has len(cnn_widths) x cnn_channels features.
    cnn_channels: int = setting(100, minimum=1, maximum=MAX_WIDTH)
    # Dropout on the pooled document vector before the output layer, in training only. "auto": none for
    # sentences, 0.5 for documents, told apart by the training texts' mean length
    # (seqkit/tasks/text_length_settings.py); the run's config.yaml holds the number chosen.
    dropout: float | str = setting(0.5, minimum=0, below=1, choices=(AUTO,), kind="dropout setting")

    def __post_init__(self) -> None:
        # ClassifierHead refuses these too; checked here so that `seqkit validate` refuses them as training does.
        if self.pooling == "last" and self.context != "rnn":
            raise ConfigError("head.pooling: 'last' reads the final states of a recurrent layer; set head.context=rnn")
        if self.context == "cnn" and self.pooling != "max":
            raise ConfigError("head.pooling: the text CNN pools by max over time; set head.pooling=max")


class SentimentTask:
    name = "sentiment"
    default_recipe = "imdb"
    data_config = SentimentData
    head_config = ClassifierConfig
    metric = "accuracy"
    predictor = "Classifier"
    endpoint = HttpEndpoint("/classify", "Classify texts (and, asked, explain them)", schema="classification")
    exporter = "classifier"
    export_refusal = None
    demo_view = "classified"
    demo_placeholder = "a warm, funny and moving film"
    verbs = ("classify", "explain")

    def __init__(self):
        self._reported: set[str] = set()
        # The training texts tokenized by build_vocabularies, reused once by training_batches (tokenizing
        # 25,000 reviews is the slowest step of setting up a run): (data config, texts, documents).
        self._last_tokenized: tuple | None = None

    # ---- data -------------------------------------------------------------------------------------------
    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: SentimentData = recipe.data
        if data.truncate not in SIDES:
            choices = ", ".join(SIDES)
            raise ConfigError(f"data.truncate: unknown side {data.truncate!r} (choose from: {choices})")
        if not 0.0 < data.valid_fraction < 1.0:
            raise ConfigError(f"data.valid_fraction: must lie between 0 and 1, got {data.valid_fraction}")
        files = {"train": data.train, "valid": data.valid or data.train, "test": data.test}
        check_split_files({f"data.{split}": getattr(data, split) for split in splits})
        required = sorted({files[split] for split in splits})
        folder = resolve_dataset(data.dataset, required, data_dir)
        read = {name: self._read(folder / name, data) for name in required}
        result = {}
        for split in splits:
            examples = read[files[split]]
            if split in ("train", "valid") and data.valid is None:
                examples = self._hold_out(examples, data.valid_fraction)[split]
                if not examples:  # one record: the held-out dev split takes it
                    raise DataFormatError(folder / files[split], None, "too few records to hold out a valid split")
            result[split] = examples
        return result

    @staticmethod
    def _read(path: Path, data: SentimentData) -> list[LabelledText]:
        return read_labelled_texts(path, data.text_field, data.label_field)

    @staticmethod
    def _hold_out(examples: list[LabelledText], fraction: float) -> dict[str, list[LabelledText]]:
        """A fixed random `fraction` of the examples as dev, the rest as train (order kept in each)."""
        generator = torch.Generator().manual_seed(HOLD_OUT_SEED)
        order = torch.randperm(len(examples), generator=generator).tolist()
        held = set(order[: max(1, round(fraction * len(examples)))])
        return {
            "train": [example for i, example in enumerate(examples) if i not in held],
            "valid": [example for i, example in enumerate(examples) if i in held],
        }

    def tokenize(self, recipe: Recipe, text: str) -> list[str]:
        """The tokens of a raw text, cleaned as the recipe says, before truncation."""
        if recipe.data.remove_markup:
            text = _MARKUP.sub(" ", text)
        return word_tokenize(text, lowercase=recipe.data.lowercase)

    def documents(
        self, recipe: Recipe, texts: list[str], what: str, sources: list[str] | None = None
    ) -> list[list[str]]:
        """Tokenized and truncated documents; the truncation is reported once per distinct message.

        A text without a single token is an InputError naming its source (`file:line`) or its index.
        """
        data: SentimentData = recipe.data
        report = TruncationReport()
        documents = []
        for index, text in enumerate(texts):
            tokens = self.tokenize(recipe, text)
            if not tokens:
                where = sources[index] if sources else f"{what} text {index}"
                raise InputError(f"{where}: no words left after cleaning, nothing to classify")
            kept = truncate(tokens, data.max_tokens, data.truncate)
            report.add(len(tokens), len(kept))
            documents.append(kept)
        message = report.message(what, data.max_tokens, data.truncate)
        if message and message not in self._reported:
            self._reported.add(message)
            print(message, file=sys.stderr)
        return documents

    def settle_settings(self, recipe: Recipe, train: list[LabelledText]) -> tuple[Recipe, str | None]:
        """The recipe with the settings it leaves to the data (`head.dropout: auto`) chosen from `train`."""
        return settle_dropout(recipe, [example.text for example in train])

    # ---- vocabularies and features ----------------------------------------------------------------------
    def build_vocabularies(self, recipe: Recipe, train: list[LabelledText]) -> dict[str, Vocab]:
        texts = [e.text for e in train]
        documents = self.documents(recipe, texts, "train", [e.source for e in train])
        self._last_tokenized = (recipe.data, texts, documents)
        return {
            "words": Vocab.build(
                (lexicon_words(document, recipe.encoder.lowercase_words) for document in documents),
                recipe.encoder.min_freq,
                recipe.encoder.max_vocab_size,
            ),
            "labels": Vocab.labels([example.label] for example in train),
        }

    def _reuse_tokenized(self, recipe: Recipe, train: list[LabelledText]) -> list[list[str]] | None:
        """The documents build_vocabularies made from these very text objects, if it did; forgotten after."""
        memo, self._last_tokenized = self._last_tokenized, None
        if memo is None:
            return None
        data, texts, documents = memo
        same = data == recipe.data and len(texts) == len(train)
        return documents if same and all(a is b.text for a, b in zip(texts, train, strict=True)) else None

    def featurize(self, recipe: Recipe, vocabularies: dict[str, Vocab], tokens: list[str]) -> dict:
        features = needed_features(recipe.encoder)
        encoder = recipe.encoder
        words = vocabularies["words"]
        return featurize_tokens(
            tokens,
            words,
            features,
            encoder.hash_buckets,
            encoder.bigram_buckets,
            encoder.lowercase_words,
            encoder.pretrained_model,
            encoder.character_buckets,
            encoder.character_limit,
        )

    def label_ids(self, vocabularies: dict[str, Vocab], examples: list[LabelledText]) -> list[int]:
        """Each example's label id; a label the model never saw is an error naming the file and line."""
        labels = vocabularies["labels"]
        ids = []
        for example in examples:
            if example.label not in labels:
                path, _, line = example.source.rpartition(":")
                raise DataFormatError(
                    path or example.source,
                    int(line) if line.isdigit() else None,
                    f"label {example.label!r} was not seen in training (known: {', '.join(labels.tokens)})",
                )
            ids.append(labels.id(example.label))
        return ids

    def training_batches(self, recipe: Recipe, vocabularies: dict[str, Vocab], train: list[LabelledText]):
        """A function epoch -> list of batches, featurized once, reshuffled per epoch from the seed."""
        documents = self._reuse_tokenized(recipe, train)
        if documents is None:
            documents = self.documents(recipe, [e.text for e in train], "train", [e.source for e in train])
        featurized = [self.featurize(recipe, vocabularies, tokens) for tokens in documents]
        for features, label in zip(featurized, self.label_ids(vocabularies, train), strict=True):
            features["label"] = label
        lengths = [len(tokens) for tokens in documents]

        def batches_for_epoch(epoch: int) -> list[dict[str, torch.Tensor]]:
            order = epoch_order(lengths, recipe.train, recipe.seed, epoch)
            return [collate([featurized[i] for i in indices]) for indices in order]

        return batches_for_epoch

    # ---- model ------------------------------------------------------------------------------------------
    def build_head(self, recipe: Recipe, vocabularies: dict[str, Vocab], input_size: int) -> ClassifierHead:
        from seqkit.layers.conv import TextCNN
        from seqkit.layers.rnn import build_recurrent_layer

        head: ClassifierConfig = recipe.head
        # Training settles "auto" from its texts before it builds anything; a model built straight from a recipe
        # (to look at it, or to train it with a loop of one's own) takes the classifier's default.
        dropout = ClassifierConfig.dropout if head.dropout == AUTO else head.dropout
        if head.context == "rnn":
            context = build_recurrent_layer(recipe.rnn, input_size)
        elif head.context == "cnn":
            context = TextCNN(input_size, head.cnn_widths, head.cnn_channels)
        elif head.context == "none":
            context = None
        else:
            raise ConfigError(f"head.context: unknown context {head.context!r} (choose from: rnn, cnn, none)")
        try:
            classes = len(vocabularies["labels"])
            pooling, attention_size = head.pooling, head.attention_size
            return ClassifierHead(context, input_size, classes, pooling, attention_size, dropout)
        except ValueError as error:
            raise ConfigError(f"head.pooling: {error}") from None

    # ---- prediction and scoring -------------------------------------------------------------------------
    def batches(
        self, recipe: Recipe, vocabularies: dict[str, Vocab], documents: list[list[str]], batch_size: int
    ):
        """(indices, batch) pairs in length order, for prediction; callers put results back by index."""
        featurized = [self.featurize(recipe, vocabularies, tokens) for tokens in documents]
        for indices in bucketed_order([len(tokens) for tokens in documents], batch_size):
            yield indices, collate([featurized[i] for i in indices])

    @torch.inference_mode()
    def predict(
        self,
        model,
        recipe: Recipe,
        vocabularies: dict[str, Vocab],
        documents: list[list[str]],
        batch_size: int = 256,
    ) -> torch.Tensor:
        """Class probabilities (N, C) of tokenized documents, in their order."""
        model.eval()
        probabilities = torch.zeros(len(documents), len(vocabularies["labels"]))
        for indices, batch in self.batches(recipe, vocabularies, documents, batch_size):
            probabilities[indices] = model(batch).logits.softmax(dim=-1)
        return probabilities

    def evaluate(
        self, model, recipe: Recipe, vocabularies: dict[str, Vocab], examples: list[LabelledText]
    ) -> dict:
        gold = self.label_ids(vocabularies, examples)
        texts, sources = [e.text for e in examples], [e.source for e in examples]
        documents = self.documents(recipe, texts, "evaluation", sources)
        predicted = self.predict(model, recipe, vocabularies, documents).argmax(dim=1).tolist()
        return {"accuracy": accuracy(gold, predicted), "documents": len(examples)}
